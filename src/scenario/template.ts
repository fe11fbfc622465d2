/**
 * Expands "{id}", "{run}", "{worker}" … in identity templates; unknown names are left as written.
 * A numeric value takes one integer operator: "{id/2}" (integer division: devices 0 and 1 share
 * "0") and "{id%10}" (remainder: ten client ids for the whole fleet) — how a scenario makes devices
 * share client ids, the firmware bug behind session-takeover storms.
 */
export function expandTemplate(template: string, vars: Record<string, string | number>): string {
  return template.replace(
    /\{(\w+)(?:([/%])(\d+))?\}/g,
    (whole, name: string, op: string | undefined, arg: string | undefined) => {
      const v = vars[name];
      if (v === undefined) return whole;
      if (op === undefined) return String(v);
      const n = Number(v);
      const by = Number(arg);
      if (!Number.isInteger(n) || by === 0) return whole;
      return String(op === '/' ? Math.floor(n / by) : n % by);
    },
  );
}
