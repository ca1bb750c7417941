/**
 * What the XML shape limits save: CPU spent on a hostile envelope (24,000
 * attributes on the Envelope, about 250 KB) by the parser alone (xml2js on
 * sax, as if nothing were checked first) and by the shape scanner that
 * refuses it, and what the scanner costs on an accepted envelope of the same
 * size. Medians over `runs` repetitions, in-process; nothing asserted.
 */
import xml2js from 'xml2js';
import { DEFAULT_XML_LIMITS, XmlShapeScanner, type XmlLimits } from '../src/case-system/xml.js';

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function time(runs: number, work: () => unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

/** Feeds the document in 16 KiB chunks, as a socket would; true when refused. */
function scan(bytes: Buffer, limits: XmlLimits = DEFAULT_XML_LIMITS): boolean {
  const scanner = new XmlShapeScanner(limits);
  try {
    for (let i = 0; i < bytes.length; i += 16 * 1024) scanner.push(bytes.subarray(i, i + 16 * 1024));
    scanner.end();
    return false;
  } catch {
    return true;
  }
}

export async function benchXml(runs = 5): Promise<string> {
  const attributes = Array.from({ length: 24_000 }, (_, i) => ` a${i}="x"`).join('');
  const hostile = Buffer.from(`<?xml version="1.0"?><soap:Envelope xmlns:soap="${SOAP11}"${attributes}><soap:Body/></soap:Envelope>`);
  const item = '<d><type>eAT</type><serialNumber>Y01L2K3M4</serialNumber></d>';
  const legit = Buffer.from(`<?xml version="1.0"?><soap:Envelope xmlns:soap="${SOAP11}"><soap:Body><r>${item.repeat(Math.floor(hostile.length / item.length))}</r></soap:Body></soap:Envelope>`);
  const parse = (bytes: Buffer) => () => new xml2js.Parser({ xmlns: true, strict: true }).parseStringPromise(bytes.toString('utf8'));
  const parseHostile = await time(Math.min(runs, 3), parse(hostile));
  const refuse = await time(runs, () => scan(hostile));
  // The accepted envelope has more elements than the default limit: measure it with the limit raised.
  const roomy = { ...DEFAULT_XML_LIMITS, maxElements: 100_000 };
  if (scan(legit, roomy)) throw new Error('the accepted envelope was refused');
  const scanLegit = await time(runs, () => scan(legit, roomy));
  const parseLegit = await time(runs, parse(legit));
  return [
    `xml  hostile envelope (${Math.round(hostile.length / 1024)} KB, 24000 attributes): xml2js alone ${parseHostile.toFixed(0)} ms, refused by the shape scanner in ${refuse.toFixed(2)} ms`,
    `xml  accepted envelope (${Math.round(legit.length / 1024)} KB, ${legit.toString('latin1').split('<d>').length - 1} documents): shape scanner ${scanLegit.toFixed(1)} ms, then xml2js ${parseLegit.toFixed(1)} ms (medians of ${runs})`,
  ].join('\n');
}
