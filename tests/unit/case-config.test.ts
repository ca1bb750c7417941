import { describe, expect, it } from 'vitest';
import { caseSystemEnvSchema, xmlLimitsOf } from '../../src/case-system/config.js';

describe('case-system configuration', () => {
  it('parses clients and callbacks from JSON strings with defaults for the rest', () => {
    const env = caseSystemEnvSchema.parse({
      CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'advis', authority: 'abh-a', wsse: { username: 'advis', password: 'long-enough' } }]),
      CASE_SYSTEM_CALLBACKS: JSON.stringify({ 'abh-a': { url: 'https://advis.example/callback', timeoutMs: 5000 } }),
    });
    expect(env.CASE_SYSTEM_CLIENTS[0]?.id).toBe('advis');
    expect(env.CASE_SYSTEM_CALLBACKS['abh-a']?.url).toBe('https://advis.example/callback');
    expect(env.CASE_SYSTEM_MAX_BODY_BYTES).toBe(256 * 1024);
    expect(env.CASE_SYSTEM_REPORT_ATTEMPTS).toBe(10);
  });

  it('refuses a client with a malformed password hash and non-JSON', () => {
    expect(caseSystemEnvSchema.safeParse({ CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'a', authority: 'b', basic: { username: 'u', passwordSha256: 'nothex' } }]) }).success).toBe(false);
    expect(caseSystemEnvSchema.safeParse({ CASE_SYSTEM_CALLBACKS: '{nope' }).success).toBe(false);
    expect(caseSystemEnvSchema.safeParse({ CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'a', authority: 'b' }]) }).success).toBe(false);
  });

  it('reads the XML limits, attributes, comments and processing instructions included, with defaults', () => {
    expect(xmlLimitsOf(caseSystemEnvSchema.parse({}))).toEqual({ maxDepth: 32, maxElements: 2000, maxAttributes: 4000, maxAttributesPerElement: 64, maxComments: 100, maxProcessingInstructions: 10 });
    const set = caseSystemEnvSchema.parse({ CASE_SYSTEM_XML_MAX_ATTRIBUTES: '500', CASE_SYSTEM_XML_MAX_ATTRIBUTES_PER_ELEMENT: '16', CASE_SYSTEM_XML_MAX_COMMENTS: '0', CASE_SYSTEM_XML_MAX_PROCESSING_INSTRUCTIONS: '1' });
    expect(xmlLimitsOf(set)).toMatchObject({ maxAttributes: 500, maxAttributesPerElement: 16, maxComments: 0, maxProcessingInstructions: 1 });
  });

  it('refuses XML limits out of range or not numbers', () => {
    for (const [name, value] of [
      ['CASE_SYSTEM_XML_MAX_ATTRIBUTES', '10'],
      ['CASE_SYSTEM_XML_MAX_ATTRIBUTES_PER_ELEMENT', '1000'],
      ['CASE_SYSTEM_XML_MAX_ATTRIBUTES_PER_ELEMENT', '4'],
      ['CASE_SYSTEM_XML_MAX_COMMENTS', '-1'],
      ['CASE_SYSTEM_XML_MAX_PROCESSING_INSTRUCTIONS', '0'],
      ['CASE_SYSTEM_XML_MAX_ATTRIBUTES', 'many'],
    ]) {
      expect(caseSystemEnvSchema.safeParse({ [name as string]: value }).success, `${name}=${value}`).toBe(false);
    }
  });
});
