/**
 * axe-core (WCAG 2.1 A and AA) on a page as it is now, frames included.
 *
 * axe-core's source is put into each frame once per document, not on every
 * check, and only violations are collected: the same rules and verdicts as
 * `@axe-core/playwright`'s `analyze()`, which injects the source into every
 * frame and opens a page of its own for each check (about a second each on
 * a 2-core machine, a tenth of that here). The top frame's `axe.run` reaches
 * the frames through axe-core's own frame messaging.
 */
import axe from 'axe-core';
import type { Page } from 'playwright-core';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface AxeNode {
  target: unknown[];
}
interface AxeViolation {
  id: string;
  help: string;
  nodes: AxeNode[];
}

/** The violations on the page now, one line per element (rule, target, help). */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  for (const frame of page.frames()) {
    if (frame.isDetached()) continue;
    const present = await frame.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object');
    if (!present) await frame.evaluate(axe.source);
  }
  const violations = await page.evaluate(
    async (tags) => {
      const run = (window as unknown as { axe: typeof axe }).axe.run;
      const result = await run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target as unknown[] })) }));
    },
    TAGS,
  );
  return (violations as AxeViolation[]).flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.map(String).join(' ')} (${v.help})`));
}
