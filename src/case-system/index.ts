/**
 * The case-system integration: inbound notices over SOAP or plain XML with
 * declarative format mappings and per-client authentication, outbound status
 * reports through an ordered, retrying queue. The composition root wires it.
 */
export { createCaseSystemApp, readBodyLimited, type CaseSystemAppDeps, type CaseSystemEnv as CaseSystemHonoEnv } from './soap-app.js';
export { compileMapping, convertDate, loadMappingFile, loadMappings, type CaseSystemMapping, type MappingFile } from './mapping.js';
export {
  caseSystemClientSchema,
  createCaseSystemAuthenticator,
  mutualTlsServerOptions,
  passwordDigest,
  RedisNonceStore,
  serveMutualTls,
  verifiedClientFingerprint,
  type AuthRequest,
  type CaseSystemAuthenticator,
  type PendingAuthentication,
  type TransportCredentials,
  type CaseSystemClientConfig,
  type NonceStore,
} from './auth.js';
export { CaseSystemReportQueue, reportFor, type CallbackTarget, type CaseSystemReport, type DeadLetter, type ReportDeliverer, type ReportQueueOptions } from './reports.js';
export { caseSystemEnvSchema, callbackTargetSchema, xmlLimitsOf, type CaseSystemEnv } from './config.js';
export { DEFAULT_XML_LIMITS, XmlShapeScanner, type XmlLimits } from './xml.js';
