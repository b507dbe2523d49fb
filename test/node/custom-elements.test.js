// The Custom Elements Manifest against the elements themselves. The manifest is generated afresh
// from the sources here (it is never checked in), then held against what each element under
// src/elements/ really is: its attributes as Lit observes them, its event map, the parts, slots and
// custom properties its shadow markup and styles use, its public members and its tag. An attribute,
// event or part that the manifest misses, or documents wrongly, fails here. The editor data made
// from the manifest is checked to carry the same tags, attributes and events.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';
import { analyze, editorData, sourcesOf, vueGlobalComponents } from '../../scripts/custom-elements.mjs';
import { versionDefine } from '../../scripts/version.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifest = analyze();
const declarations = manifest.modules.flatMap((module) =>
  module.declarations.map((declaration) => ({ ...declaration, module: module.path })),
);
const sorted = (values) => [...values].sort();

/** The element module, bundled for Node (Lit's server build) and imported: the classes as they run. */
async function importElement(file) {
  const { outputFiles } = await build({
    entryPoints: [join(root, file)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    define: versionDefine(),
    logLevel: 'silent',
  });
  return import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString('base64')}`);
}

/** Lit's attribute for a property: `attribute: false` none, a string that name, else the lowercased property. */
const attributeOf = (property, options) =>
  options.attribute === false
    ? null
    : typeof options.attribute === 'string'
      ? options.attribute
      : property.toLowerCase();

/** src/tags.ts's `TAGS`, read from its text: key → tag. */
const TAGS = Object.fromEntries(
  [...readFileSync(join(root, 'src/tags.ts'), 'utf8').matchAll(/^\s+(\w+): '([a-z][a-z0-9]*-[a-z0-9-]*)',$/gm)].map(
    ([, key, tag]) => [key, tag],
  ),
);

for (const file of sourcesOf().elements) {
  const source = readFileSync(join(root, file), 'utf8');
  const ast = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const module = `dist/elements/${basename(file, '.ts')}.js`;
  // By export name: the bundler may rename a class inside the bundle.
  const elements = Object.entries(await importElement(file))
    .filter(([, value]) => typeof value === 'function' && 'observedAttributes' in value)
    .map(([name, element]) => ({ name, element }));

  test(`${file} exports an element that the manifest describes`, () => {
    assert.ok(elements.length > 0, `${file} exports no element class`);
    for (const { name } of elements)
      assert.ok(
        declarations.some((d) => d.name === name && d.module === module && d.customElement),
        `${name} is not a custom element of ${module} in the manifest`,
      );
  });

  for (const { name, element } of elements) {
    const declaration = declarations.find((d) => d.name === name && d.module === module) ?? {};
    const classNode = ast.statements.find((s) => ts.isClassDeclaration(s) && s.name?.text === name);
    const tag = declaration.tagName ?? name;

    describe(`<${tag}> (${file})`, () => {
      test('its tag is registered by an entry, under the name HTMLElementTagNameMap gives it', () => {
        // `[TAGS.gate]: AuthGate;`, the tag read from src/tags.ts, the one place tags are written.
        const tagMap = [...source.matchAll(/\[TAGS\.(\w+)\]:\s*(\w+);/g)]
          .map(([whole, key, className]) => [whole, TAGS[key], className])
          .find(([, , className]) => className === name);
        assert.ok(tagMap, `${file} declares no HTMLElementTagNameMap entry for ${name}`);
        assert.equal(declaration.tagName, tagMap[1]);
        const definitions = manifest.modules.flatMap((m) =>
          (m.exports ?? []).filter((e) => e.kind === 'custom-element-definition' && e.name === tagMap[1]),
        );
        assert.equal(definitions.length, 1, `<${tagMap[1]}> is defined ${definitions.length} times`);
        assert.deepEqual(definitions[0].declaration, { name: name, module });
      });

      test('its attributes are those Lit observes, with their property names and types', () => {
        const observed = (declaration.attributes ?? []).filter((a) => a.fieldName);
        assert.deepEqual(sorted(observed.map((a) => a.name)), sorted(element.observedAttributes));
        const expected = [...element.elementProperties]
          .map(([property, options]) => [attributeOf(property, options), property])
          .filter(([attribute]) => attribute);
        assert.deepEqual(
          sorted(observed.map((a) => `${a.name} → ${a.fieldName}`)),
          sorted(expected.map(([attribute, property]) => `${attribute} → ${property}`)),
        );
        for (const attribute of observed) {
          assert.ok(attribute.type?.text, `attribute ${attribute.name} has no type`);
          const field = declaration.members.find((m) => m.name === attribute.fieldName);
          assert.equal(field?.attribute, attribute.name, `property ${attribute.fieldName} does not name its attribute`);
        }
      });

      test('every attribute it sets on itself for CSS is documented (`@attr`), typed, and no other', () => {
        // this.setAttribute('state', …) and this.toggleAttribute('pending', …): what CSS can select.
        const set = new Set(
          [...source.matchAll(/\bthis\.(?:setAttribute|toggleAttribute)\(\s*'([\w-]+)'/g)].map(([, name]) => name),
        );
        const documented = (declaration.attributes ?? []).filter((a) => !a.fieldName);
        const reflects = (a) => declaration.members.find((m) => m.name === a.fieldName)?.reflects;
        assert.deepEqual(
          sorted(documented.map((a) => a.name)),
          sorted(
            [...set].filter((name) => !(declaration.attributes ?? []).some((a) => a.name === name && reflects(a))),
          ),
        );
        for (const attribute of documented) {
          assert.ok(attribute.type?.text, `attribute ${attribute.name} has no type`);
          assert.match(
            attribute.description ?? '',
            /^Set by the element/,
            `${attribute.name} does not say who sets it`,
          );
        }
      });

      test('its events are those of its event map, with their detail types', () => {
        const eventMap = ast.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === `${name}EventMap`);
        const mapped = (eventMap?.members ?? []).map((m) => [m.name.text, m.type.getText(ast)]);
        assert.deepEqual(
          sorted((declaration.events ?? []).map((e) => `${e.name}: ${e.type?.text}`)),
          sorted(mapped.map(([name, type]) => `${name}: ${type}`)),
        );
        // An event dispatched under a literal name must be in the map (and so in the manifest).
        const dispatched = [...source.matchAll(/(?:new CustomEvent|dispatch)\(\s*'([^']+)'/g)].map(([, name]) => name);
        for (const name of dispatched)
          assert.ok(
            mapped.some(([mappedName]) => mappedName === name),
            `${name} dispatches '${name}', which its event map does not declare`,
          );
        for (const event of declaration.events ?? [])
          assert.ok(event.description, `event ${event.name} is undocumented`);
      });

      test('every part and custom property its shadow markup and styles use is documented, and no other', () => {
        // Every name of a part attribute (part="field code" is two parts).
        const parts = new Set(
          [...source.matchAll(/\bpart=(?:"([\w\s-]+)"|'([\w\s-]+)'|([\w-]+))/g)].flatMap(([, a, b, c]) =>
            (a ?? b ?? c ?? '').split(/\s+/).filter(Boolean),
          ),
        );
        assert.deepEqual(sorted(declaration.cssParts?.map((p) => p.name) ?? []), sorted(parts));
        // The default documented for a custom property is the fallback the styles give it.
        const properties = new Map(
          [...source.matchAll(/var\((--[\w-]+),\s*([^)]+)\)/g)].map(([, n, d]) => [n, d.trim()]),
        );
        assert.deepEqual(
          sorted(declaration.cssProperties?.map((p) => `${p.name}: ${p.default}`) ?? []),
          sorted([...properties].map(([name, fallback]) => `${name}: ${fallback}`)),
        );
        for (const documented of [...(declaration.cssParts ?? []), ...(declaration.cssProperties ?? [])])
          assert.ok(documented.description, `${documented.name} is undocumented`);
      });

      test('every slot its shadow root has is documented, and every documented slot is one it names', () => {
        const used = new Set([
          ...[...source.matchAll(/<slot(?:\s+name=["']([\w-]+)["'])?/g)].map(([, name]) => name ?? ''),
          ...[...source.matchAll(/createElement\('slot'\)(?:,\s*\{\s*name:\s*'([\w-]+)')?/g)].map(
            ([, name]) => name ?? '',
          ),
        ]);
        const slots = declaration.slots?.map((s) => s.name) ?? [];
        for (const name of used) assert.ok(slots.includes(name), `slot "${name}" is not documented`);
        // A slot name chosen at run time (auth-gate's view) is still written somewhere as a string.
        for (const name of slots.filter(Boolean))
          assert.ok(source.includes(`'${name}'`), `slot "${name}" is documented but never named in ${file}`);
        for (const slot of declaration.slots ?? []) assert.ok(slot.description, `slot "${slot.name}" is undocumented`);
      });

      test('its public members are in the manifest: properties, read-only ones, methods', () => {
        const isPublic = (member) =>
          member.name &&
          !ts.isPrivateIdentifier(member.name) &&
          !ts.isConstructorDeclaration(member) &&
          !member.modifiers?.some((m) =>
            [ts.SyntaxKind.PrivateKeyword, ts.SyntaxKind.ProtectedKeyword, ts.SyntaxKind.OverrideKeyword].includes(
              m.kind,
            ),
          );
        const expected = classNode.members.filter(isPublic).map((member) => {
          const callable =
            ts.isMethodDeclaration(member) ||
            (ts.isPropertyDeclaration(member) &&
              member.initializer &&
              (ts.isArrowFunction(member.initializer) || ts.isFunctionExpression(member.initializer)));
          return `${callable ? 'method' : 'field'} ${member.name.text}`;
        });
        assert.deepEqual(sorted(declaration.members.map((m) => `${m.kind} ${m.name}`)), sorted(expected));
        for (const getter of classNode.members.filter(ts.isGetAccessorDeclaration).filter(isPublic)) {
          const member = declaration.members.find((m) => m.name === getter.name.text);
          const hasSetter = classNode.members.some(
            (m) => ts.isSetAccessorDeclaration(m) && m.name.text === getter.name.text,
          );
          assert.equal(!!member.readonly, !hasSetter, `${getter.name.text} is read-only: ${!hasSetter}`);
          assert.ok(member.type?.text, `${getter.name.text} has no type`);
        }
        for (const method of declaration.members.filter((m) => m.kind === 'method'))
          assert.ok(method.return?.type?.text, `${method.name}() has no return type`);
      });
    });
  }
}

test('the editor data carries every element with its attributes, events, parts and custom properties', () => {
  const { vscodeHtml, vscodeCss, webTypes } = editorData(manifest);
  const elements = declarations.filter((d) => d.customElement);
  assert.deepEqual(sorted(vscodeHtml.tags.map((t) => t.name)), sorted(elements.map((e) => e.tagName)));
  assert.deepEqual(
    sorted(webTypes.contributions.html.elements.map((e) => e.name)),
    sorted(elements.map((e) => e.tagName)),
  );
  for (const element of elements) {
    const names = sorted(element.attributes?.map((a) => a.name) ?? []);
    const vscode = vscodeHtml.tags.find((t) => t.name === element.tagName);
    assert.deepEqual(sorted(vscode.attributes.map((a) => a.name)), names);
    assert.match(vscode.references[0].url, /^https:\/\/github\.com\/auth-shell\/auth-shell#/);
    const jetbrains = webTypes.contributions.html.elements.find((e) => e.name === element.tagName);
    assert.deepEqual(sorted(jetbrains.attributes.map((a) => a.name)), names);
    assert.deepEqual(sorted(jetbrains.events.map((e) => e.name)), sorted(element.events?.map((e) => e.name) ?? []));
    assert.deepEqual(jetbrains.source, { symbol: element.name, module: element.module });
  }
  const parts = elements.flatMap((e) => e.cssParts ?? []).map((p) => `::part(${p.name})`);
  assert.deepEqual(sorted(vscodeCss.pseudoElements.map((p) => p.name)), sorted(parts));
  const properties = elements.flatMap((e) => e.cssProperties ?? []).map((p) => p.name);
  assert.deepEqual(sorted(vscodeCss.properties.map((p) => p.name)), sorted(properties));
  // A union of literals is offered as values; any other type is free text.
  const method = vscodeHtml.tags
    .find((t) => t.name === 'auth-provider')
    .attributes.find((a) => a.name === 'refresh-method');
  assert.deepEqual(sorted(method.values.map((v) => v.name)), ['GET', 'POST']);
  const messages = vscodeHtml.tags
    .find((t) => t.name === 'auth-login-form')
    .attributes.find((a) => a.name === 'messages');
  assert.deepEqual(messages.values, []);
});

test("Vue's GlobalComponents typings carry every element, each attribute as the prop Vue checks, each event", () => {
  const typings = vueGlobalComponents(manifest);
  const camel = (name) => name.replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());
  for (const element of declarations.filter((d) => d.customElement)) {
    const props = `${element.name}VueProps`;
    assert.match(typings, new RegExp(`"${element.tagName}": DefineComponent<${props}>;`));
    const body = typings.slice(
      typings.indexOf(`interface ${props}`),
      typings.indexOf('\n}\n', typings.indexOf(`interface ${props}`)),
    );
    const members = [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((match) => match[1]);
    assert.deepEqual(
      sorted(members),
      sorted([
        ...(element.attributes ?? []).filter((a) => a.fieldName).map((a) => camel(a.name)),
        ...(element.events ?? []).map((e) => camel(`on-${e.name}`)),
      ]),
      element.tagName,
    );
    assert.match(
      typings,
      new RegExp(`import type \\{ ${element.name}[,} ].* from '\\./${element.module.slice('dist/'.length)}';`),
    );
  }
  // A union of literals stays exact (vue-tsc then refuses refresh-method="DELETE"); other types also take a string.
  assert.match(typings, /refreshMethod\?: "POST" \| "GET" \| undefined;/);
  assert.match(typings, /leeway\?: AuthProvider\["leeway"\] \| string;/);
  assert.match(typings, /onAuthChange\?: \(event: AuthProviderEventMap\["auth-change"\]\) => void;/);
  assert.match(typings, /interface HTMLAttributes \{\n {4}slot\?: string \| undefined;/);
  // What the elements set on themselves is for CSS to read, not a prop to pass.
  assert.doesNotMatch(typings, /^ {2}(state|pending)\?:/m);
});

test("the provider's attribute defaults in the manifest are the session's own defaults", async () => {
  const provider = declarations.find((d) => d.tagName === 'auth-provider');
  const { resolveOptions } = await importElement('src/core/options.ts');
  const resolved = resolveOptions({ api: 'https://app.example/api' });
  // Each resolved option as the attribute text that asks for it.
  const asText = {
    loginPath: resolved.loginUrl.slice('https://app.example/api'.length),
    refreshPath: resolved.refreshUrl.slice('https://app.example/api'.length),
    logoutPath: resolved.logoutUrl.slice('https://app.example/api'.length),
    refreshMethod: resolved.refreshMethod,
    logoutMethod: resolved.logoutMethod,
    csrfHeader: resolved.csrfHeader?.join(': ') ?? '',
    sidCookie: resolved.sidCookie,
    loginFields: resolved.loginFields.join(' '),
    tokenField: resolved.tokenField,
    expiresInField: resolved.expiresInField,
    codeField: resolved.codeField,
    leeway: String(resolved.leeway / 1000), // kept in ms
    timeout: String(resolved.timeout),
  };
  const stated = Object.fromEntries(
    provider.attributes.filter((a) => a.default !== undefined).map((a) => [a.fieldName, a.default]),
  );
  assert.deepEqual(stated, asText);
});

describe('the manifest follows the source, with no list to update', () => {
  const copy = mkdtempSync(join(tmpdir(), 'auth-shell-cem-'));
  after(() => rmSync(copy, { recursive: true, force: true }));
  for (const name of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src'])
    cpSync(join(root, name), join(copy, name), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');

  test('a new attribute, event and element appear in it', () => {
    const gate = join(copy, 'src/elements/auth-gate.ts');
    writeFileSync(
      gate,
      readFileSync(gate, 'utf8')
        .replace(
          "requireRole: { attribute: 'require-role' },",
          "requireRole: { attribute: 'require-role' },\n    fallbackView: {},\n    internal: { state: true },",
        )
        .replace(
          'declare requireRole: string | undefined;',
          'declare requireRole: string | undefined;\n  declare fallbackView: GateView;',
        )
        .replace(
          'declare global {',
          "export interface AuthGateEventMap {\n  /** The view changed. */\n  'auth-view': CustomEvent<{ view: GateView }>;\n}\n\ndeclare global {",
        ),
    );
    writeFileSync(
      join(copy, 'src/elements/auth-extra.ts'),
      `import { ReactiveElement } from '@lit/reactive-element';
/** @summary A new element. */
export class AuthExtra extends ReactiveElement {
  static override properties = { mode: { attribute: 'data-mode' } } as const;
  declare mode: 'a' | 'b' | undefined;
}
`,
    );
    writeFileSync(
      join(copy, 'src/extra.ts'),
      "import { define } from './define.js';\nimport { AuthExtra } from './elements/auth-extra.js';\ndefine('auth-extra', AuthExtra);\n",
    );
    const pkg = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8'));
    pkg.exports['./extra'] = './dist/extra.js';
    writeFileSync(join(copy, 'package.json'), JSON.stringify(pkg));

    const all = analyze(copy).modules.flatMap((m) => m.declarations);
    const gateDoc = all.find((d) => d.name === 'AuthGate');
    const fallback = gateDoc.attributes.find((a) => a.name === 'fallbackview');
    assert.equal(fallback?.fieldName, 'fallbackView');
    assert.equal(fallback.parsedType.text, '"pending" | "login" | "protected" | "forbidden"');
    assert.ok(!gateDoc.attributes.some((a) => a.fieldName === 'internal'), 'internal state is no attribute');
    assert.deepEqual(gateDoc.events, [
      { name: 'auth-view', type: { text: 'CustomEvent<{ view: GateView }>' }, description: 'The view changed.' },
    ]);
    const extra = all.find((d) => d.name === 'AuthExtra');
    assert.equal(extra?.tagName, 'auth-extra');
    assert.deepEqual(
      extra.attributes.map((a) => [a.name, a.fieldName, a.type.text]),
      [['data-mode', 'mode', "'a' | 'b' | undefined"]],
    );
  });
});
