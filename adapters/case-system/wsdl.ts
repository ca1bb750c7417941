/**
 * The case-system interface description: pickup.wsdl (what case systems call),
 * callback.wsdl (what they implement to receive status reports) and the
 * shared pickup.xsd, all in ./wsdl.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CASE_SYSTEM_WSDL_DIR = join(dirname(fileURLToPath(import.meta.url)), 'wsdl');
export const PICKUP_WSDL = join(CASE_SYSTEM_WSDL_DIR, 'pickup.wsdl');
export const CALLBACK_WSDL = join(CASE_SYSTEM_WSDL_DIR, 'callback.wsdl');
export const PICKUP_XSD = join(CASE_SYSTEM_WSDL_DIR, 'pickup.xsd');
