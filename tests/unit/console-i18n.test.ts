/**
 * The simulator console's texts (mappings/i18n/console): German and English
 * with the same keys, read by the project's i18n, a title, description and
 * expectation for every fault of the catalogue, a name for every person's
 * action and language; and the metric lines the console reads from dokubox.
 */
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { metricSamples } from '../../simulator/console/middleware.js';
import { keyOf, NOTICE_LANGUAGES } from '../../simulator/console/view.js';
import { FAULT_KINDS } from '../../simulator/faults.js';
import { COMPARTMENT_ACTIONS } from '../../simulator/world.js';
import { projectPath } from '../../src/project-root.js';
import { loadCatalogues } from '../../src/web/i18n.js';

const dir = projectPath('mappings/i18n/console');
const keys = (language: string): string[] => Object.keys((load(readFileSync(`${dir}/${language}.yaml`, 'utf8')) as { messages: Record<string, string> }).messages).sort();

describe('the console’s catalogues', () => {
  it('load with the project’s i18n, German and English with the same keys', () => {
    const catalogues = loadCatalogues(dir);
    expect(catalogues.languages().map((c) => c.language)).toEqual(['de', 'en']);
    expect(keys('en')).toEqual(keys('de'));
    expect(catalogues.t('en', 'compartment.unlocks', { count: 1 })).toBe('1 unlock command');
    expect(catalogues.t('de', 'compartment.placeAt', { column: 1, row: 2, size: 'S', height: 47, accessible: 'yes' })).toBe('Spalte 1, Reihe 2 von unten · Größe S · 47 cm · barrierefrei');
  });

  it('name every fault with what it does and what dokubox should do, every action and every notice language', () => {
    const german = new Set(keys('de'));
    const needed = [
      ...Object.keys(FAULT_KINDS).flatMap((kind) => ['title', 'description', 'expect'].map((part) => `fault.${keyOf(kind)}.${part}`)),
      ...COMPARTMENT_ACTIONS.map((action) => `action.${keyOf(action)}`),
      ...NOTICE_LANGUAGES.map((language) => `language.${language}`),
    ];
    expect(needed.filter((key) => !german.has(key))).toEqual([]);
  });
});

describe('reading dokubox’s metrics', () => {
  it('takes the samples of one metric with their labels and skips comments and other metrics', () => {
    const text = [
      '# HELP dokubox_case_report_queue Case-system report queue: pending jobs and dead letters',
      '# TYPE dokubox_case_report_queue gauge',
      'dokubox_case_report_queue{kind="pending"} 3',
      'dokubox_case_report_queue{kind="dead_letters"} 1',
      'dokubox_case_report_queue_extra 9',
      'dokubox_pickups{state="reserved"} 12',
    ].join('\n');
    expect(metricSamples(text, 'dokubox_case_report_queue')).toEqual([
      { labels: { kind: 'pending' }, value: 3 },
      { labels: { kind: 'dead_letters' }, value: 1 },
    ]);
    expect(metricSamples(text, 'dokubox_missing')).toEqual([]);
  });
});
