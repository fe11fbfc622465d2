/**
 * The API surface of a TypeScript declaration file as plain data: every exported interface,
 * class, type alias and enum with its members' signatures (comments dropped, whitespace and
 * quotes normalised). Declarations inside `declare module '…' { }` blocks count as the module's.
 * Used to hold herd's xk6-mqtt declarations to upstream's published index.d.ts.
 */
import ts from 'typescript';

export type ApiDecl =
  | { kind: 'interface'; extends: string[]; members: Record<string, string[]> }
  | { kind: 'class'; members: Record<string, string[]> }
  | { kind: 'type'; type: string }
  | { kind: 'enum'; members: Record<string, string> };

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

function text(node: ts.Node, sf: ts.SourceFile): string {
  return printer
    .printNode(ts.EmitHint.Unspecified, node, sf)
    .replace(/\s+/g, ' ')
    .replaceAll('"', "'")
    .replace(/;\s*$/, '')
    .replace(/^(export )?(declare )?(readonly )?/, (_m, _e, _d, r: string | undefined) => r ?? '')
    .trim();
}

function memberName(m: ts.ClassElement | ts.TypeElement, sf: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(m) || ts.isConstructSignatureDeclaration(m)) return 'constructor';
  return m.name ? m.name.getText(sf) : '(call)';
}

function members(list: ts.NodeArray<ts.ClassElement | ts.TypeElement>, sf: ts.SourceFile): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of list) {
    const name = memberName(m, sf);
    // Own keys only: 'constructor' must not find Object.prototype's.
    if (!Object.hasOwn(out, name)) out[name] = [];
    out[name]?.push(text(m, sf));
  }
  return out;
}

export function dtsApi(source: string): Record<string, ApiDecl> {
  const sf = ts.createSourceFile('api.d.ts', source, ts.ScriptTarget.ES2020, true);
  const api: Record<string, ApiDecl> = {};
  const visit = (stmts: ts.NodeArray<ts.Statement>): void => {
    for (const s of stmts) {
      if (ts.isModuleDeclaration(s) && s.body && ts.isModuleBlock(s.body)) visit(s.body.statements);
      else if (ts.isInterfaceDeclaration(s)) {
        const ext = (s.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.getText(sf)));
        api[s.name.text] = { kind: 'interface', extends: ext, members: members(s.members, sf) };
      } else if (ts.isClassDeclaration(s) && s.name) {
        api[s.name.text] = { kind: 'class', members: members(s.members, sf) };
      } else if (ts.isTypeAliasDeclaration(s)) api[s.name.text] = { kind: 'type', type: text(s.type, sf) };
      else if (ts.isEnumDeclaration(s)) {
        api[s.name.text] = {
          kind: 'enum',
          members: Object.fromEntries(
            s.members.map((m) => [m.name.getText(sf), m.initializer ? text(m.initializer, sf) : '']),
          ),
        };
      }
    }
  };
  visit(sf.statements);
  return api;
}

/** A declaration file for module `name` written from an API surface (no bodies, no comments). */
export function dtsFromApi(name: string, api: Record<string, ApiDecl>): string {
  const lines = Object.entries(api).map(([id, d]) => {
    switch (d.kind) {
      case 'type':
        return `  export type ${id} = ${d.type};`;
      case 'enum':
        const values = Object.entries(d.members).map(([k, v]) => (v === '' ? k : `${k} = ${v}`));
        return `  export enum ${id} { ${values.join(', ')} }`;
      case 'interface':
      case 'class': {
        const ext = d.kind === 'interface' && d.extends.length > 0 ? ` extends ${d.extends.join(', ')}` : '';
        const body = Object.values(d.members)
          .flat()
          .map((m) => `    ${m};`);
        return `  export ${d.kind} ${id}${ext} {\n${body.join('\n')}\n  }`;
      }
    }
  });
  return `declare module '${name}' {\n${lines.join('\n')}\n}\n`;
}
