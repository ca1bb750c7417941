/**
 * Realistic test notices: names with diacritics and from many languages,
 * partly unknown dates of birth, German mobile numbers in the forms clerks
 * type them, and one or two documents per person. Deterministic per index.
 */
export interface SampleNotice {
  messageId: string;
  authority: string;
  caseNumber: string;
  boxId: string;
  person: { familyName: string; givenNames: string; dateOfBirth: string };
  documents: { type: string; serialNumber: string; validUntil?: string }[];
  mobile: string;
  language: string;
  consent: boolean;
  accessible: boolean;
  /** The document renews a card the applicant has (absent: not a renewal). */
  renewal?: boolean;
  /** CAN (6 digits) of the renewed card; the service takes it only with renewal true. */
  oldCardCan?: string;
}

/** What a sample notice says about a renewed card (sent as given, so refusals can be tried too). */
export interface RenewalOptions {
  renewal?: boolean;
  oldCardCan?: string;
}

const PEOPLE: [string, string, string][] = [
  ['Kovačević', 'Ana Marija', 'en'],
  ['Al-Hassan', 'Nour', 'ar'],
  ['Шевченко', 'Олена', 'uk'],
  ['Yılmaz', 'Ömer Faruk', 'tr'],
  ['Moradi', 'Zahra', 'fa'],
  ['Nguyễn', 'Thị Thu', 'en'],
  ['Müller-Şahin', 'Zoë', 'de'],
  ['Dubois', 'Hélène', 'fr'],
  ['Ivanov', 'Dmitrij', 'ru'],
  ['Øvergård', 'Åsa', 'en'],
];
const BIRTH = ['1990-07-14', '1990', '1985-03', '2012-11-30', '1978', '2001-02-28', '1969-12', '1995-06-01'];
const MOBILES = ['0151 23456789', '+49 160 9876543', '0049 170 1234567', '(0172) 555 12 34', '+49-176-22334455', '01520 1234567'];

function serial(i: number, length: number): string {
  const alphabet = 'CFGHJKLMNPRTVWXYZ0123456789';
  let out = '';
  let n = i * 7919 + 104729;
  for (let k = 0; k < length; k++) {
    out += alphabet[n % alphabet.length];
    n = Math.floor(n / alphabet.length) + k * 31 + 17;
  }
  return out;
}

/** The box shipped in mappings/boxes (Magdeburg's foyer box) and its authority. */
export const SAMPLE_AUTHORITY = 'magdeburg-abh';
export const SAMPLE_BOX = 'md-foyer';

export function sampleNotice(i: number, options: { authority?: string; boxId?: string; runId?: string } & RenewalOptions = {}): SampleNotice {
  const [familyName, givenNames, language] = PEOPLE[i % PEOPLE.length] as [string, string, string];
  const documents: SampleNotice['documents'] = [{ type: 'eAT', serialNumber: serial(i, 9), validUntil: '2031-01-31' }];
  if (i % 3 === 1) documents.push({ type: 'travel-refugee', serialNumber: serial(i + 5000, 9) });
  return {
    messageId: `SIM-${options.runId ?? 'run'}-${String(i).padStart(6, '0')}`,
    authority: options.authority ?? SAMPLE_AUTHORITY,
    caseNumber: `34.2-${1000 + i}/26`,
    boxId: options.boxId ?? SAMPLE_BOX,
    person: { familyName, givenNames, dateOfBirth: BIRTH[i % BIRTH.length] as string },
    documents,
    mobile: MOBILES[i % MOBILES.length] as string,
    language,
    consent: true,
    accessible: i % 10 === 9,
    ...(options.renewal === undefined ? {} : { renewal: options.renewal }),
    ...(options.oldCardCan === undefined ? {} : { oldCardCan: options.oldCardCan }),
  };
}

const esc = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const XOEV_DOCS: Record<string, string> = { eAT: '01', 'travel-refugee': '02', 'travel-foreigner': '03', 'travel-stateless': '04', 'emergency-travel': '05' };
const XOEV_LANG: Record<string, string> = { de: 'deu', en: 'eng', ar: 'ara', uk: 'ukr', ru: 'rus', tr: 'tur', fa: 'fas', fr: 'fra' };

/** A partly unknown ISO date as the XÖV vendor writes it: 00.00.1990, 00.03.1985, 14.07.1990. */
function xoevDate(iso: string): string {
  const [y, m = '00', d = '00'] = iso.split('-');
  return `${d}.${m}.${y}`;
}

/** The notice in the XÖV-style vendor format (mappings/case-systems/xoev-vendor.yaml). */
export function toXoevXml(notice: SampleNotice, createdAt: string): string {
  const renewal = `${notice.renewal === undefined ? '' : `<abh:erneuerung>${notice.renewal}</abh:erneuerung>`}${notice.oldCardCan === undefined ? '' : `<abh:bisherigesDokument><abh:zugangsnummer>${esc(notice.oldCardCan)}</abh:zugangsnummer></abh:bisherigesDokument>`}`;
  const docs = notice.documents
    .map(
      (d) =>
        `<abh:dokument><abh:dokumentart listURI="urn:xoev-de:dokubox:codeliste:dokumentart" listVersionID="1"><code>${XOEV_DOCS[d.type] ?? d.type}</code></abh:dokumentart><abh:seriennummer>${esc(d.serialNumber)}</abh:seriennummer>${d.validUntil ? `<abh:gueltigBis>${d.validUntil}</abh:gueltigBis>` : ''}</abh:dokument>`,
    )
    .join('');
  return `<abh:abholbereitschaft.mitteilung.0001 xmlns:abh="urn:xoev-de:dokubox:abholbox:1" produkt="dokubox-simulator" produkthersteller="dokubox" produktversion="1" standard="XAbholbox" version="1.0" test="true"><abh:nachrichtenkopf.g2g><abh:identifikation.nachricht><abh:nachrichtenUUID>${esc(notice.messageId)}</abh:nachrichtenUUID><abh:nachrichtentyp listURI="urn:xoev-de:dokubox:codeliste:nachrichtentyp" listVersionID="1"><code>abholbox.0001</code></abh:nachrichtentyp><abh:erstellungszeitpunkt>${createdAt}</abh:erstellungszeitpunkt></abh:identifikation.nachricht><abh:leser><abh:kennung>dokubox</abh:kennung></abh:leser><abh:autor><abh:kennung>${esc(notice.authority)}</abh:kennung></abh:autor></abh:nachrichtenkopf.g2g><abh:vorgang><abh:aktenzeichen>${esc(notice.caseNumber)}</abh:aktenzeichen><abh:abholort><abh:kennung>${esc(notice.boxId)}</abh:kennung></abh:abholort></abh:vorgang><abh:person><abh:familienname>${esc(notice.person.familyName)}</abh:familienname><abh:vorname>${esc(notice.person.givenNames)}</abh:vorname><abh:geburtsdatum>${xoevDate(notice.person.dateOfBirth)}</abh:geburtsdatum></abh:person>${docs}<abh:kontakt><abh:mobilnummer>${esc(notice.mobile)}</abh:mobilnummer><abh:sprache listURI="urn:xoev-de:kosit:codeliste:sprache" listVersionID="1"><code>${XOEV_LANG[notice.language] ?? notice.language}</code></abh:sprache></abh:kontakt><abh:einwilligungAbholbox>${notice.consent}</abh:einwilligungAbholbox><abh:barrierefreierZugang>${notice.accessible}</abh:barrierefreierZugang>${renewal}</abh:abholbereitschaft.mitteilung.0001>`;
}
