/**
 * SMPP 3.4 gateway (transceiver) and its helpers.
 *
 * @example
 * const gateway = new SmppGateway({ host, port: 2775, systemId, password, logger });
 * await gateway.start();
 * gateway.onDeliveryReport((report) => ...);
 */
export { SmppGateway, reasonForSmppStatus, type SmppGatewayOptions, type SmppSessionState } from './gateway.js';
export { encodeForSmpp, type SmppPayload } from './encoding.js';
export { parseReceiptText, parseReceiptDate, statusForSmppStat, type ParsedReceipt } from './receipts.js';
