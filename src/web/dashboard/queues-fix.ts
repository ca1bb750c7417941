/**
 * Accessibility fixes for bull-board's own page (a vendor UI): names for its
 * icon-only buttons, which screen readers would otherwise announce as
 * "button". Loaded into that page by src/web/dashboard/queues.ts; the colour
 * fixes are in queues-fix.css.
 */
const NAMES: Record<string, string> = {
  maximize: 'Vollbild / Full screen',
  minimize: 'Vollbild beenden / Exit full screen',
  settings: 'Einstellungen / Settings',
  'ellipsis-vertical': 'Weitere Aktionen / More actions',
  ellipsis: 'Weitere Aktionen / More actions',
  'chevron-down': 'Aufklappen / Expand',
  menu: 'Menü / Menu',
  x: 'Schließen / Close',
  copy: 'Kopieren / Copy',
};

function name(button: HTMLButtonElement): void {
  if ((button.textContent ?? '').trim() !== '' || (button.getAttribute('aria-label') ?? '').trim() !== '') return;
  if (/copyBtn/.test(button.className)) {
    button.setAttribute('aria-label', 'Kopieren / Copy');
    return;
  }
  const icon = Array.from(button.querySelector('svg')?.classList ?? []).find((c) => c.startsWith('lucide-'))?.slice('lucide-'.length);
  button.setAttribute('aria-label', (icon === undefined ? undefined : NAMES[icon]) ?? (button.title || 'Aktion / Action'));
}

function sweep(): void {
  // Buttons and the elements that act as buttons.
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('button, [role="button"]'))) name(button);
}

new MutationObserver(sweep).observe(document.documentElement, { childList: true, subtree: true });
sweep();
