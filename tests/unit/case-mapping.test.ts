import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load as parseYaml } from 'js-yaml';
import { DokuboxError } from '../../src/core/errors.js';
import { parseNotice } from '../../src/core/notice.js';
import { compileMapping, convertDate, loadMappingFile, loadMappings } from '../../src/case-system/mapping.js';
import { checkXmlShape, parseXml } from '../../src/case-system/xml.js';
import { catalog } from '../fixtures/case-system/fake-port.js';
import { canonicalNotice, fixture } from '../fixtures/case-system/helpers.js';

const mappingsDir = new URL('../../mappings/case-systems', import.meta.url).pathname;
const canonicalYaml = (): Record<string, unknown> => parseYaml(readFileSync(join(mappingsDir, 'canonical.yaml'), 'utf8')) as Record<string, unknown>;

function thrown(fn: () => unknown): DokuboxError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DokuboxError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('date conversion', () => {
  it.each([
    ['1990-07-14', ['yyyy-MM-dd'], '1990-07-14'],
    ['14.07.1990', ['dd.MM.yyyy'], '1990-07-14'],
    ['00.00.1990', ['dd.MM.yyyy'], '1990'],
    ['00.03.1985', ['dd.MM.yyyy'], '1985-03'],
    ['1990', ['dd.MM.yyyy', 'yyyy'], '1990'],
    ['19900714', ['yyyyMMdd'], '1990-07-14'],
  ] as const)('%s with %j -> %s', (raw, formats, expected) => {
    expect(convertDate(raw, formats, true)).toBe(expected);
  });

  it.each([
    ['31.02.1990', ['dd.MM.yyyy']],
    ['14.00.1990', ['dd.MM.yyyy']],
    ['1990-13-01', ['yyyy-MM-dd']],
    ['14/07/1990', ['dd.MM.yyyy', 'yyyy-MM-dd']],
    ['1850', ['yyyy']],
  ] as const)('%s is refused', (raw, formats) => {
    expect(convertDate(raw, formats, true)).toBeUndefined();
  });

  it('a full date is required where partial dates are not allowed', () => {
    expect(convertDate('00.00.2031', ['dd.MM.yyyy'], false)).toBeUndefined();
  });
});

describe('mapping files', () => {
  it('ships canonical and xoev-vendor', async () => {
    const mappings = await loadMappings(mappingsDir);
    expect([...mappings.keys()]).toEqual(['canonical', 'xoev-vendor']);
  });

  it('maps the XÖV fixture onto a notice that passes validation', async () => {
    const mappings = await loadMappings(mappingsDir);
    const root = await parseXml(fixture('notify-xoev.request.xml'));
    const mapping = mappings.get('xoev-vendor');
    expect(mapping?.operationFor(root)).toBe('notice');
    const notice = parseNotice(mapping?.toNotice(root, { authority: 'abh-magdeburg' }), catalog);
    expect(notice).toMatchObject({ messageId: '6f1c1e1e-6b1a-4c5e-9d1e-2f0a7f3b9c01', language: 'ar', mobile: '+491609876543', accessible: false });
  });

  it('refuses a message of another XÖV message type, and a code from another code list', async () => {
    const mapping = (await loadMappings(mappingsDir)).get('xoev-vendor');
    const wrongType = await parseXml(fixture('notify-xoev.request.xml').replace('<code>abholbox.0001</code>', '<code>abholbox.0099</code>'));
    expect(thrown(() => mapping?.toNotice(wrongType, { authority: 'a' })).code).toBe('VALIDATION_FAILED');
    const wrongList = await parseXml(fixture('notify-xoev.request.xml').replace('urn:xoev-de:dokubox:codeliste:dokumentart', 'urn:other:list'));
    expect(thrown(() => mapping?.toNotice(wrongList, { authority: 'a' })).field).toBe('documents[0].type');
  });

  it('a broken mapping throws CONFIG_INVALID naming the file and the field', () => {
    const broken = canonicalYaml();
    (broken.notice as { fields: Record<string, unknown> }).fields.mobile = { path: 'mobile', type: 'telephone' };
    const error = thrown(() => compileMapping(broken, 'vendor-x.yaml'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('vendor-x.yaml');
    expect(error.field).toBe('notice.fields.mobile.type');

    const noFormats = canonicalYaml();
    (noFormats.notice as { fields: Record<string, unknown> }).fields['person.dateOfBirth'] = { path: 'person/dateOfBirth', type: 'partialDate' };
    expect(thrown(() => compileMapping(noFormats, 'v.yaml')).field).toBe('notice.fields.person.dateOfBirth.formats');

    const unknownList = canonicalYaml();
    (unknownList.notice as { fields: Record<string, unknown> }).fields.language = { path: 'language', codes: 'sprachen' };
    expect(thrown(() => compileMapping(unknownList, 'v.yaml')).message).toContain("code list 'sprachen'");

    const missing = canonicalYaml();
    delete (missing.notice as { fields: Record<string, unknown> }).fields.mobile;
    expect(thrown(() => compileMapping(missing, 'v.yaml')).field).toBe('notice.fields.mobile');
  });

  it('an unreadable YAML file names the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dokubox-mapping-'));
    writeFileSync(join(dir, 'bad.yaml'), 'name: [unclosed');
    await expect(loadMappingFile(join(dir, 'bad.yaml'))).rejects.toThrow(/bad\.yaml/);
  });
});

describe('renewal and the old card\'s CAN in both formats', () => {
  const xoevWith = (elements: string): string => fixture('notify-xoev.request.xml').replace('</abh:abholbereitschaft.mitteilung.0001>', `${elements}</abh:abholbereitschaft.mitteilung.0001>`);
  const mapped = async (format: 'canonical' | 'xoev-vendor', xml: string): Promise<Record<string, unknown>> => {
    const mapping = (await loadMappings(mappingsDir)).get(format);
    if (mapping === undefined) throw new Error(`no mapping ${format}`);
    return mapping.toNotice(await parseXml(xml), { authority: 'abh-magdeburg' });
  };

  it('canonical: <renewal> and <oldCardCan> become renewal and oldCardCan', async () => {
    const notice = parseNotice(await mapped('canonical', canonicalNotice({ renewal: 'true', oldCardCan: '482913' })), catalog);
    expect(notice).toMatchObject({ renewal: true, oldCardCan: '482913' });
  });

  it('XÖV: <erneuerung> and <bisherigesDokument><zugangsnummer> become renewal and oldCardCan', async () => {
    const notice = parseNotice(await mapped('xoev-vendor', xoevWith('<abh:erneuerung>ja</abh:erneuerung><abh:bisherigesDokument><abh:zugangsnummer>482913</abh:zugangsnummer></abh:bisherigesDokument>')), catalog);
    expect(notice).toMatchObject({ renewal: true, oldCardCan: '482913' });
  });

  it('both formats: without the elements the notice is no renewal and has no CAN', async () => {
    for (const notice of [parseNotice(await mapped('canonical', canonicalNotice()), catalog), parseNotice(await mapped('xoev-vendor', fixture('notify-xoev.request.xml')), catalog)]) {
      expect(notice.renewal).toBe(false);
      expect(notice).not.toHaveProperty('oldCardCan');
    }
  });

  it.each([
    ['canonical', () => canonicalNotice({ renewal: 'maybe' }), 'renewal'],
    ['xoev-vendor', () => xoevWith('<abh:erneuerung>vielleicht</abh:erneuerung>'), 'erneuerung'],
  ] as const)('%s: a renewal that is not true or false is refused naming renewal and its element', async (format, xml, element) => {
    const error = await mapped(format, xml()).then(
      () => undefined,
      (e: unknown) => e as DokuboxError,
    );
    expect(error?.code).toBe('VALIDATION_FAILED');
    expect(error?.field).toBe('renewal');
    expect(error?.message).toContain(`element ${element}`);
  });

  it.each([
    ['canonical', () => canonicalNotice({ renewal: 'true', oldCardCan: '48291' }), 'oldCardCan'],
    ['canonical', () => canonicalNotice({ oldCardCan: '482913' }), 'oldCardCan'],
    ['xoev-vendor', () => xoevWith('<abh:erneuerung>true</abh:erneuerung><abh:bisherigesDokument><abh:zugangsnummer>48291X</abh:zugangsnummer></abh:bisherigesDokument>'), 'bisherigesDokument/zugangsnummer'],
    ['xoev-vendor', () => xoevWith('<abh:bisherigesDokument><abh:zugangsnummer>482913</abh:zugangsnummer></abh:bisherigesDokument>'), 'bisherigesDokument/zugangsnummer'],
  ] as const)('%s: a malformed CAN, or one without renewal, is refused naming oldCardCan and its element', async (format, xml, element) => {
    const mapping = (await loadMappings(mappingsDir)).get(format);
    const root = await parseXml(xml());
    const error = thrown(() => parseNotice(mapping?.toNotice(root, { authority: 'abh-magdeburg' }), catalog));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.field).toBe('oldCardCan');
    expect(error.message).not.toMatch(/48291/);
    expect(mapping?.sourceOf('oldCardCan')).toBe(element);
  });
});

describe('XML hardening before parsing', () => {
  it('rejects DOCTYPE, deep nesting and too many elements without parsing', () => {
    expect(() => checkXmlShape('<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>')).toThrow(/DOCTYPE/);
    expect(() => checkXmlShape(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`)).toThrow(/nests deeper/);
    expect(() => checkXmlShape(`<r>${'<a/>'.repeat(3000)}</r>`)).toThrow(/more than 2000 elements/);
    expect(() => checkXmlShape('<r a="x>y"><!-- <!DOCTYPE --><![CDATA[<!ENTITY]]></r>')).not.toThrow();
  });

  it('an undeclared entity reference is malformed, not expanded', async () => {
    await expect(parseXml('<r>&xxe;</r>')).rejects.toMatchObject({ code: 'MALFORMED_BODY' });
  });
});
