/**
 * The scenario's applicants, made up deterministically from the seed: names
 * in many scripts, dates of birth (some only partly known), German mobile
 * numbers in the forms clerks type them. Everything here is personal data
 * the middleware must keep out of its logs; the runner scans for it.
 */

/** A small, fast, seeded generator (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAMILY = ['Kovačević', 'Al-Hassan', 'Шевченко', 'Yılmaz', 'Moradi', 'Nguyễn', 'Müller-Şahin', 'Dubois', 'Ivanov', 'Øvergård', 'Abdullahi', 'Haddad', 'Popescu', 'Nowakowska', 'Tesfaye', 'Rahimi', 'Bezerra', 'Karimi', 'Petrović', 'Hakimi'];
const GIVEN = ['Ana Marija', 'Nour', 'Олена', 'Ömer Faruk', 'Zahra', 'Thị Thu', 'Zoë', 'Hélène', 'Dmitrij', 'Åsa', 'Amina', 'Yusuf', 'Ioana', 'Agnieszka', 'Selamawit', 'Farid', 'Kwabena', 'Larissa', 'Leyla', 'Dragan'];
const PREFIXES = ['151', '152', '160', '162', '170', '171', '172', '176', '178', '157'];

export interface Applicant {
  familyName: string;
  givenNames: string;
  /** As the case system sends it: YYYY-MM-DD, or partly unknown YYYY-MM / YYYY. */
  dateOfBirth: string;
  /** As the clerk typed it (one of several formats). */
  mobile: string;
  /** +49... */
  e164: string;
  /** Never comes to the box. */
  noShow: boolean;
}

/** The same number in the forms clerks type (and that must all stay out of the logs). */
export function mobileForms(prefix: string, subscriber: string): string[] {
  return [`+49${prefix}${subscriber}`, `0${prefix}${subscriber}`, `0${prefix} ${subscriber}`, `0049 ${prefix} ${subscriber}`, `+49-${prefix}-${subscriber}`, `(0${prefix}) ${subscriber.slice(0, 3)} ${subscriber.slice(3)}`];
}

export function makeApplicant(index: number, random: () => number, noShowShare: number, seed: number): Applicant {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const year = 1950 + Math.floor(random() * 65);
  const month = 1 + Math.floor(random() * 12);
  const day = 1 + Math.floor(random() * 28);
  const known = random();
  const dateOfBirth = known < 0.1 ? String(year) : known < 0.2 ? `${year}-${String(month).padStart(2, '0')}` : `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  const prefix = PREFIXES[index % PREFIXES.length] as string;
  // Unique per applicant of a run: the index in the last digits, the seed before it.
  const subscriber = `${String(Math.abs(seed) % 1000).padStart(3, '0')}${String(index).padStart(5, '0')}`;
  const forms = mobileForms(prefix, subscriber);
  return {
    familyName: pick(FAMILY),
    givenNames: pick(GIVEN),
    dateOfBirth,
    mobile: forms[index % forms.length] as string,
    e164: forms[0] as string,
    noShow: random() < noShowShare,
  };
}

/** How the applicant types the date of birth at the box: DD.MM.YYYY, an unknown day or month as XX. */
export function enteredDateOfBirth(dateOfBirth: string): string {
  const [year, month, day] = dateOfBirth.split('-');
  return `${day ?? 'XX'}.${month ?? 'XX'}.${year ?? ''}`;
}

/** The forms of a date of birth that would give it away in a log (a bare year is too common to look for). */
export function dateOfBirthForms(dateOfBirth: string): string[] {
  const [year, month, day] = dateOfBirth.split('-');
  if (month === undefined) return [];
  if (day === undefined) return [`${year}-${month}`, `${month}.${year}`, `${month}/${year}`];
  return [dateOfBirth, `${day}.${month}.${year}`, `${year}${month}${day}`, `${day}/${month}/${year}`];
}
