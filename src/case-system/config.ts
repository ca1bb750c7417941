/**
 * Configuration of the case-system integration as a zod schema over
 * environment strings, for the core to merge into its one env schema
 * (`caseSystemEnvSchema.shape`). Nothing here reads process.env.
 */
import { z } from 'zod';
import { caseSystemClientSchema } from './auth.js';
import type { XmlLimits } from './xml.js';

const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  }).pipe(schema);

export const callbackTargetSchema = z.strictObject({
  url: z.url(),
  wsse: z.strictObject({ username: z.string().min(1), password: z.string().min(8) }).optional(),
  basic: z.strictObject({ username: z.string().min(1), password: z.string().min(8) }).optional(),
  timeoutMs: z.number().int().positive().optional(),
});

export const caseSystemEnvSchema = z.object({
  /** JSON array of case-system clients: {id, authority, basic?, wsse?, tlsClientCertFingerprint?}. */
  CASE_SYSTEM_CLIENTS: json(z.array(caseSystemClientSchema)).default([]),
  CASE_SYSTEM_MAPPINGS_DIR: z.string().default('mappings/case-systems'),
  CASE_SYSTEM_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(256 * 1024),
  CASE_SYSTEM_XML_MAX_DEPTH: z.coerce.number().int().min(8).max(256).default(32),
  CASE_SYSTEM_XML_MAX_ELEMENTS: z.coerce.number().int().min(50).max(100_000).default(2000),
  /** Attributes in one document (namespace declarations included), and on one element. */
  CASE_SYSTEM_XML_MAX_ATTRIBUTES: z.coerce.number().int().min(50).max(100_000).default(4000),
  CASE_SYSTEM_XML_MAX_ATTRIBUTES_PER_ELEMENT: z.coerce.number().int().min(8).max(256).default(64),
  CASE_SYSTEM_XML_MAX_COMMENTS: z.coerce.number().int().min(0).max(100_000).default(100),
  /** Processing instructions in one document, the XML declaration included. */
  CASE_SYSTEM_XML_MAX_PROCESSING_INSTRUCTIONS: z.coerce.number().int().min(1).max(10_000).default(10),
  CASE_SYSTEM_WSSE_WINDOW_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  /** Base URL written into the served WSDL (soap:address, schema import); before PUBLIC_URL, then the listener's own address. */
  CASE_SYSTEM_PUBLIC_URL: z.url().optional(),
  /** JSON object authority -> {url, wsse?, basic?, timeoutMs?} of the PickupStatusCallback service. */
  CASE_SYSTEM_CALLBACKS: json(z.record(z.string(), callbackTargetSchema)).default({}),
  CASE_SYSTEM_REPORT_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  CASE_SYSTEM_REPORT_BACKOFF_MS: z.coerce.number().int().min(10).default(2000),
  CASE_SYSTEM_REPORT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  CASE_SYSTEM_REPORT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Mutual TLS for case systems: files of the server key/cert and of the CA that issues client certificates. */
  CASE_SYSTEM_TLS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  CASE_SYSTEM_TLS_KEY_FILE: z.string().optional(),
  CASE_SYSTEM_TLS_CERT_FILE: z.string().optional(),
  CASE_SYSTEM_TLS_CLIENT_CA_FILE: z.string().optional(),
});

export type CaseSystemEnv = z.infer<typeof caseSystemEnvSchema>;

/** The XML limits of the case-system endpoints from their variables. */
export function xmlLimitsOf(env: CaseSystemEnv): XmlLimits {
  return {
    maxDepth: env.CASE_SYSTEM_XML_MAX_DEPTH,
    maxElements: env.CASE_SYSTEM_XML_MAX_ELEMENTS,
    maxAttributes: env.CASE_SYSTEM_XML_MAX_ATTRIBUTES,
    maxAttributesPerElement: env.CASE_SYSTEM_XML_MAX_ATTRIBUTES_PER_ELEMENT,
    maxComments: env.CASE_SYSTEM_XML_MAX_COMMENTS,
    maxProcessingInstructions: env.CASE_SYSTEM_XML_MAX_PROCESSING_INSTRUCTIONS,
  };
}
