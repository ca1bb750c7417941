/**
 * Applicant SMS: templates, the queue that sends them at most once per
 * pickup and kind, quiet hours, and the configuration that picks a gateway.
 */
export { SmsQueue, smsJobId, smsForeignId, type SmsQueueOptions, type SmsReader, type SmsRecipient, type SmsOutcome, type SmsOutcomeHandler } from './queue.js';
export { renderSms, resolveLanguage, formatHours, formatDeadline, SMS_KINDS, DEFAULT_SMS_LANGUAGE, MAX_LOCATION_LENGTH, SmsTemplateError, type SmsKind, type SmsTemplateSet, type SmsVariables, type RenderedSms, type LanguageTemplates } from './templates.js';
export { loadSmsTemplates, parseTemplateFile, DEFAULT_SMS_TEMPLATE_DIR } from './template-loader.js';
export { countSegments, type SegmentCount } from './segments.js';
export { quietUntil, parseQuietHours, DEFAULT_QUIET_HOURS, type QuietHours } from './quiet-hours.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
export { smsEnvShape, smsEnvSchema, checkSmsEnv, createSmsGateway, smsQueueSettings, type SmsEnv, type SmsGatewayDeps } from './config.js';
