/**
 * A cohort's publish topic template compiled once: "{run}", "{cohort}" and anything else that is
 * the same for every device resolved up front, "{id}" ("{id/N}", "{id%N}") left for each publish.
 * A fleet then holds no topic string per device — a topic without "{id}" is one string for the
 * whole cohort, one with it is built when the device publishes or subscribes and dropped after.
 * Each part expands exactly as expandTemplate expands it (every "{…}" is replaced on its own).
 */
import { expandTemplate } from '../scenario/template.js';

const PLACEHOLDER = /\{(\w+)(?:([/%])(\d+))?\}/g;
/** How one "{id…}" expands: the id itself, divided by `by` (integer division), or its remainder. */
const AS_IS = 0;
const DIV = 1;
const MOD = 2;

export class TopicTemplate {
  /** The topic itself when it has no "{id}": every device of the cohort shares it. */
  private readonly fixed: string | null;
  /** Text around the "{id…}" placeholders: one more than there are placeholders. */
  private readonly text: string[] = [];
  private readonly ops: number[] = [];
  private readonly by: number[] = [];

  constructor(template: string, run: string, cohort: string) {
    let at = 0;
    let pending = '';
    for (const m of template.matchAll(PLACEHOLDER)) {
      const [whole, name, op, arg] = m;
      pending += template.slice(at, m.index);
      at = m.index + whole.length;
      const by = Number(arg);
      if (name !== 'id' || (op !== undefined && by === 0)) {
        pending += expandTemplate(whole, { run, cohort }); // the same for every device
        continue;
      }
      this.text.push(pending);
      pending = '';
      this.ops.push(op === undefined ? AS_IS : op === '/' ? DIV : MOD);
      this.by.push(by);
    }
    this.text.push(pending + template.slice(at));
    this.fixed = this.ops.length === 0 ? (this.text[0] as string) : null;
  }

  /** The topic of device `id` (an unsigned 32-bit integer, as device ids are). */
  expand(id: number): string {
    if (this.fixed !== null) return this.fixed;
    let s = this.text[0] as string;
    for (let i = 0; i < this.ops.length; i++) {
      const op = this.ops[i] as number;
      const v = op === AS_IS ? id : op === DIV ? Math.floor(id / (this.by[i] as number)) : id % (this.by[i] as number);
      s += String(v) + (this.text[i + 1] as string);
    }
    return s;
  }
}
