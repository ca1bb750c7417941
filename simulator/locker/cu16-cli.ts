/**
 * Runs the CU16 emulator for a box mapping so testers can drive the whole
 * chain on one laptop: gateways listen where the mapping says (or on
 * PORT_OFFSET-shifted ports), and stdin takes physical actions and faults.
 *
 *   npx tsx simulator/locker/cu16-cli.ts mappings/boxes/md-foyer.yaml
 *   > close 001 | insert 001 | take 001 | force 001 | jam 001 | unjam 001
 *   > sensor 001 present|absent|ok | silence gw1 3 | wake gw1 3
 *   > drop gw1 | restore gw1 | garbage gw1 on|off | split gw1 <ms>|off | delay gw1 <ms>
 *   > state 001 | quit
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { load as parseYaml } from 'js-yaml';
import type { CompartmentLayout } from '../../adapters/locker/types.js';
import { Cu16Emulator } from './cu16-emulator.js';

interface Mapping {
  locker?: { gateways?: { id: string; host?: string; port: number }[]; lockNumberBase?: 0 | 1; lockBitOpenValue?: 0 | 1; itemBitPresentValue?: 0 | 1 };
  compartments?: { id: string; locker?: CompartmentLayout['locker'] }[];
}

async function main(): Promise<void> {
  const file = process.argv[2] ?? 'mappings/boxes/md-foyer.yaml';
  const mapping = parseYaml(readFileSync(file, 'utf8')) as Mapping;
  const offset = Number(process.env.PORT_OFFSET ?? 0);
  const gateways = (mapping.locker?.gateways ?? []).map((g) => ({ id: g.id, port: g.port + offset, host: '127.0.0.1' }));
  const compartments = (mapping.compartments ?? []).flatMap((c) => (c.locker ? [{ id: c.id, locker: c.locker }] : []));
  const emulator = new Cu16Emulator({
    gateways,
    compartments,
    lockNumberBase: mapping.locker?.lockNumberBase ?? 0,
    lockBitOpenValue: mapping.locker?.lockBitOpenValue ?? 1,
    itemBitPresentValue: mapping.locker?.itemBitPresentValue ?? 1,
  });
  emulator.on('unlock', (u: { compartmentId: string | null; opened: boolean }) => console.log(`unlock ${u.compartmentId ?? '(no compartment)'}${u.opened ? '' : ' (jammed)'}`));
  for (const g of await emulator.start()) console.log(`gateway ${g.id} listening on ${g.host}:${g.port}`);
  console.log(`${compartments.length} compartments; type 'help' for commands`);

  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const [cmd, a = '', b = ''] = line.trim().split(/\s+/);
    try {
      switch (cmd) {
        case 'close': emulator.closeDoor(a); break;
        case 'insert': emulator.insertItem(a); break;
        case 'take': emulator.takeItem(a); break;
        case 'force': emulator.forceOpen(a); break;
        case 'jam': emulator.jamLock(a); break;
        case 'unjam': emulator.jamLock(a, false); break;
        case 'sensor': emulator.breakItemSensor(a, b === 'ok' ? null : b === 'present' ? 'present' : 'absent'); break;
        case 'silence': emulator.silenceBoard(a, Number(b)); break;
        case 'wake': emulator.silenceBoard(a, Number(b), false); break;
        case 'drop': await emulator.dropGateway(a); break;
        case 'restore': await emulator.restoreGateway(a); break;
        case 'garbage': emulator.setGarbage(a, b === 'off' ? null : Uint8Array.of(0xff, 0x02, 0x00)); break;
        case 'split': emulator.setSplitReplies(a, b === 'off' ? null : Number(b)); break;
        case 'delay': emulator.setReplyDelay(a, Number(b)); break;
        case 'state': console.log(`${a}: door ${emulator.door(a)}, item ${emulator.item(a)}, unlocks ${emulator.unlockCount(a)}`); break;
        case 'quit': rl.close(); break;
        case '': break;
        default: console.log('commands: close insert take force jam unjam sensor silence wake drop restore garbage split delay state quit');
      }
    } catch (error) {
      console.log(error instanceof Error ? error.message : String(error));
    }
  }
  await emulator.stop();
}

void main();
