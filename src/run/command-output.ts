/**
 * What herd keeps of a declared outage's command output: the last 4 KiB of stdout and stderr as
 * they came, masked before it is written anywhere (results.json, reports, stderr). A command line
 * can hold a password, and tools echo their arguments, so every word of the command line (4
 * characters or more, but the program's name) is masked in the output, as are URL passwords and the
 * values of environment variables whose names say they are secret. The line itself is never kept.
 */
import { redactText } from '../scenario/url-credentials.js';
import { escapeControl } from '../util/control-chars.js';

export const OUTPUT_TAIL_BYTES = 4096;
/** Extra bytes kept before the tail, so a secret the tail's cut goes through is still masked whole. */
const MARGIN_BYTES = 4096;
const MASK = '***';
const SECRET_NAME_RE = /pass|secret|token|key|credential|auth|cookie|session/i;
const MIN_WORD = 4;

export class OutputTail {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private seen = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.seen += chunk.length;
    const keep = OUTPUT_TAIL_BYTES + MARGIN_BYTES;
    if (this.bytes > 2 * keep) {
      const all = Buffer.concat(this.chunks);
      this.chunks = [all.subarray(all.length - keep)];
      this.bytes = keep;
    }
  }

  /** The masked tail and whether output was cut. */
  read(commandLine: string, env: NodeJS.ProcessEnv): { text: string; truncated: boolean } {
    const all = Buffer.concat(this.chunks);
    const kept = all.subarray(Math.max(0, all.length - OUTPUT_TAIL_BYTES - MARGIN_BYTES));
    const masked = maskSecrets(kept.toString('utf8'), commandLine, env);
    const tail = Buffer.from(masked, 'utf8');
    const cut = tail.length > OUTPUT_TAIL_BYTES;
    // A cut inside a UTF-8 sequence decodes to U+FFFD: harmless, and the tail stays within bounds.
    const text = cut ? tail.subarray(tail.length - OUTPUT_TAIL_BYTES).toString('utf8') : masked;
    return { text: escapeControl(text), truncated: this.seen > OUTPUT_TAIL_BYTES || cut };
  }
}

/** The words of a command line that may be secret: every word but the program's name, 4+ characters. */
export function commandWords(line: string): string[] {
  const words = line.split(/[\s'"`=;|&()<>$]+/).filter((w) => w.length > 0);
  const first = words[0];
  const rest = first !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(line.trimStart()) ? words.slice(1) : words;
  return rest.filter((w) => w.length >= MIN_WORD);
}

/** `text` with URL passwords, secret-named environment values and the command line's words masked. */
export function maskSecrets(text: string, commandLine: string, env: NodeJS.ProcessEnv): string {
  const secrets = new Set(commandWords(commandLine));
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= MIN_WORD && SECRET_NAME_RE.test(name)) secrets.add(value);
  }
  // Longest first, so a word inside a longer secret does not leave the rest of it showing.
  let out = redactText(text);
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(MASK);
  return out;
}
