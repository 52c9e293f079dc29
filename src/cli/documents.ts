// Reads LfmDeployment documents from a file or stdin ("-"): multi-document YAML or JSON. I/O at the edge only.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { parseLfmDeployment, type ParseResult } from '../api/parse.js';

export class InputError extends Error {}

/** Reads a file, or standard input for "-". Standard input can be read only once: parse it once and reuse that. */
export type ReadText = (file: string) => string;

export const readText: ReadText = (file) => readFileSync(file === '-' ? 0 : file, 'utf8');

export function readDocuments(file: string, read: ReadText = readText): unknown[] {
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    throw new InputError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const out: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      throw new InputError(`${file}: malformed YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    if (typeof value === 'object' && (value as { kind?: unknown }).kind === 'List' && Array.isArray((value as { items?: unknown }).items)) {
      out.push(...(value as { items: unknown[] }).items);
    } else {
      out.push(value);
    }
  }
  if (out.length === 0) throw new InputError(`${file}: no documents found`);
  return out;
}

export function parseDocuments(file: string, read: ReadText = readText): ParseResult[] {
  return readDocuments(file, read).map(parseLfmDeployment);
}
