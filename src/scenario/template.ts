/** Expands "{id}", "{run}", "{worker}" … in identity templates; unknown names are left as written. */
export function expandTemplate(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = vars[name];
    return v === undefined ? whole : String(v);
  });
}
