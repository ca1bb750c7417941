/**
 * CSV (RFC 4180) of statistics rows: a header row, CRLF line ends, fields
 * with a comma, a double quote or a line break quoted, quotes doubled. Empty
 * for null; numbers with a decimal point (as JSON has them).
 */
import { ROW_COLUMNS, type StatisticsRow } from './statistics.js';

export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly (string | number | null)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export function statisticsCsv(rows: readonly StatisticsRow[]): string {
  return csvLine(ROW_COLUMNS) + rows.map((row) => csvLine(ROW_COLUMNS.map((column) => row[column]))).join('');
}
