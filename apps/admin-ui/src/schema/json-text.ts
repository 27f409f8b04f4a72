// JSON as the admin types or uploads it: parsed with the place of the first mistake (browsers'
// JSON.parse messages differ and often give none), and the canonical text the manager measures
// and compares schemas by.

/** Where a JSON text stops being JSON: 1-based line and column (in characters), and why. */
export interface JsonSyntaxError {
  readonly message: string;
  /** Offset in UTF-16 units from the start of the text. */
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

export type ParsedJson =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: JsonSyntaxError };

/** Parses JSON text; on failure says where the first mistake is and what was expected there. */
export function parseJsonText(text: string): ParsedJson {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const found = findSyntaxError(text);
    const problem = found ?? {
      offset: 0,
      message: error instanceof Error ? error.message : 'not valid JSON',
    };
    return { ok: false, error: { ...problem, ...lineAndColumn(text, problem.offset) } };
  }
}

/** A syntax error as one line of text: `line 3, column 9: expected ',' or '}' …`. */
export function describeSyntaxError(error: JsonSyntaxError): string {
  return `JSON error at line ${error.line}, column ${error.column}: ${error.message}`;
}

/**
 * JSON text with object keys sorted (by UTF-16 code units) at every level, arrays in order: the
 * manager's canonicalJson, by which it hashes a schema and measures its size. Built by hand, as
 * there: an object lists integer-like keys ("0", "10") first, whatever their code-unit order.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  if (Array.isArray(value))
    return `[${value.map((item: unknown) => write(item) ?? 'null').join(',')}]`;
  if (isJsonObject(value)) {
    const members: string[] = [];
    for (const key of Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const text = write(value[key]);
      if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Bytes of a text as UTF-8 (a lone surrogate counts as the 3 bytes of U+FFFD, as on the manager). */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** A JSON object as JSON.parse makes it: not an array, not null, not a class instance. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return {
    line: before.split('\n').length,
    column: Array.from(before.slice(lineStart)).length + 1,
  };
}

/** The first syntax error of a text by RFC 8259, or undefined when it is JSON (or too deep to read). */
export function findSyntaxError(text: string): { offset: number; message: string } | undefined {
  try {
    new JsonScanner(text).document();
    return undefined;
  } catch (error) {
    // Anything else (nesting too deep for this reader): the caller falls back on JSON.parse's word.
    return error instanceof SyntaxProblem
      ? { offset: error.offset, message: error.message }
      : undefined;
  }
}

class SyntaxProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** A recursive-descent reader that only finds where the text stops being JSON. */
class JsonScanner {
  private pos = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.space();
    this.value();
    this.space();
    if (this.pos < this.text.length) {
      this.fail(`unexpected ${this.found()} after the end of the JSON value`);
    }
  }

  private value(): void {
    const char = this.text[this.pos];
    if (char === '{') this.object();
    else if (char === '[') this.array();
    else if (char === '"') this.string();
    else if (char === 't') this.word('true');
    else if (char === 'f') this.word('false');
    else if (char === 'n') this.word('null');
    else if (char === '-' || (char >= '0' && char <= '9')) this.number();
    else this.fail(`expected a value, found ${this.found()}`);
  }

  private object(): void {
    this.pos++;
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') {
        this.fail(`expected a property name in double quotes, found ${this.found()}`);
      }
      this.string();
      this.space();
      if (this.text[this.pos] !== ':') {
        this.fail(`expected ':' after the property name, found ${this.found()}`);
      }
      this.pos++;
      this.space();
      this.value();
      this.space();
      const next = this.text[this.pos];
      this.pos++;
      if (next === '}') return;
      if (next !== ',') {
        this.pos--;
        this.fail(`expected ',' or '}' after a property value, found ${this.found()}`);
      }
    }
  }

  private array(): void {
    this.pos++;
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.space();
      this.value();
      this.space();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ']') return;
      if (next !== ',') {
        this.pos--;
        this.fail(`expected ',' or ']' after an array element, found ${this.found()}`);
      }
    }
  }

  private string(): void {
    const start = this.pos;
    this.pos++;
    for (;;) {
      const char = this.text[this.pos];
      if (char === undefined) {
        this.pos = start;
        this.fail('this string is not closed (a missing ")');
      }
      if (char === '"') {
        this.pos++;
        return;
      }
      if (char === '\\') {
        const escape = this.text[this.pos + 1];
        if (escape === 'u') {
          if (!HEX4.test(this.text.slice(this.pos + 2, this.pos + 6))) {
            this.fail('\\u must be followed by four hexadecimal digits');
          }
          this.pos += 6;
        } else if (escape !== undefined && ESCAPES.has(escape)) {
          this.pos += 2;
        } else {
          this.fail(`invalid escape \\${escape ?? ''} in a string`);
        }
      } else if (char < ' ') {
        this.fail(`${this.found()} inside a string: write it as an escape (\\n, \\t)`);
      } else {
        this.pos++;
      }
    }
  }

  private number(): void {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    const after = match === null ? this.pos : this.pos + match[0].length;
    if (match === null || /[0-9.eE+-]/.test(this.text[after] ?? '')) {
      this.fail(
        'invalid number (JSON numbers have no leading zeros, a digit after ".", no + sign)',
      );
    }
    this.pos = after;
  }

  private word(word: 'true' | 'false' | 'null'): void {
    if (!this.text.startsWith(word, this.pos)) {
      this.fail(`expected ${word} (words in JSON are true, false and null, in lowercase)`);
    }
    this.pos += word.length;
  }

  private space(): void {
    while (' \t\n\r'.includes(this.text[this.pos] ?? 'x')) this.pos++;
  }

  private found(): string {
    const char = this.text[this.pos];
    if (char === undefined) return 'the end of the text';
    if (char === '\n' || char === '\r') return 'a line break';
    if (char < ' ' || char === '\u00a0' || char === '\ufeff') {
      return `the invisible character U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    }
    return `'${Array.from(this.text.slice(this.pos))[0]}'`;
  }

  private fail(message: string): never {
    throw new SyntaxProblem(this.pos, message);
  }
}
