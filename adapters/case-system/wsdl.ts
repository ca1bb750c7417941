/**
 * The case-system interface description: pickup.wsdl (what case systems call),
 * callback.wsdl (what they implement to receive status reports) and the
 * shared pickup.xsd, all in ./wsdl.
 */
import { join } from 'node:path';
import { projectPath } from '../../src/project-root.js';

// From the project tree, not next to this module: the compiled module lives in dist/.
export const CASE_SYSTEM_WSDL_DIR = projectPath('adapters/case-system/wsdl');
export const PICKUP_WSDL = join(CASE_SYSTEM_WSDL_DIR, 'pickup.wsdl');
export const CALLBACK_WSDL = join(CASE_SYSTEM_WSDL_DIR, 'callback.wsdl');
export const PICKUP_XSD = join(CASE_SYSTEM_WSDL_DIR, 'pickup.xsd');
