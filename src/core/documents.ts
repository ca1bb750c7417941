/**
 * Document types are data (mappings/document-types.yaml), not code: a new
 * department joins by adding entries there. The catalog is the pure view of
 * that data.
 */
export interface DocumentType {
  /** Stable id used in notices, e.g. `eAT`, `travel-refugee`. */
  id: string;
  /** Display names per language; `de` is required. */
  names: Record<string, string>;
  /** Regular expression a serial number must match (as a scanner types it). */
  serialPattern: string;
  /** ID cards: the box must ask whether the PIN letter arrived (§17 PAuswV). */
  requiresPinLetterConfirmation: boolean;
}

export class DocumentTypeCatalog {
  private readonly byId: Map<string, DocumentType & { serialRegex: RegExp }>;

  constructor(types: readonly DocumentType[]) {
    this.byId = new Map(types.map((type) => [type.id, { ...type, serialRegex: new RegExp(type.serialPattern) }]));
  }

  get(id: string): DocumentType | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  serialMatches(id: string, serial: string): boolean {
    return this.byId.get(id)?.serialRegex.test(serial) ?? false;
  }
}
