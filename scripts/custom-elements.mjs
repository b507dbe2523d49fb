// The Custom Elements Manifest and the editor data made from it, generated from the sources on
// every build (never kept in the repository, so never stale): `custom-elements.json` (analyzer
// 0.11.0 with a plugin for what it misses here), VS Code's custom HTML and CSS data, and JetBrains'
// web-types. `npm run build` writes them into dist/; test/node/custom-elements.test.js generates
// the manifest afresh and holds it against the elements themselves.
import { create, ts } from '@custom-elements-manifest/analyzer';
import { litPlugin } from '@custom-elements-manifest/analyzer/src/features/framework-plugins/lit/lit.js';
import { getWebTypesData } from 'custom-element-jet-brains-integration';
import { getVsCodeCssCustomData, getVsCodeHtmlCustomData } from 'custom-element-vs-code-integration';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** The files the build writes into dist/; package.json's customElements, web-types and exports name them. */
export const FILES = {
  manifest: 'custom-elements.json',
  vscodeHtml: 'vscode.html-custom-data.json',
  vscodeCss: 'vscode.css-custom-data.json',
  webTypes: 'web-types.json',
  /** Vue's `GlobalComponents` for the elements; auth-shell/vue's declarations (vue.d.ts) load it. */
  vueComponents: 'vue-components.d.ts',
};

/**
 * What is analysed: every module under src/elements/ (so a new element needs no list), and every
 * entry of the package that has a source (from package.json's `exports`), where the tags are defined.
 */
export function sourcesOf(root = projectRoot) {
  const walk = (dir) =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return walk(path);
      return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
    });
  const { exports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const entries = Object.values(exports)
    .map((target) => (typeof target === 'string' ? target : target.default))
    .map((target) => /^\.\/dist\/(.+)\.js$/.exec(target)?.[1])
    .filter((name) => name && existsSync(join(root, `src/${name}.ts`)))
    .map((name) => `src/${name}.ts`);
  return { elements: walk('src/elements'), entries };
}

/** Analyses the sources under `root` (the project, or a copy of it in a test) and returns the manifest. */
export function analyze(root = projectRoot) {
  const { elements, entries } = sourcesOf(root);
  // A program rather than loose source files: the plugin asks the type checker for what the syntax
  // does not say (the signature of an arrow-function member, the values of an aliased union).
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.build.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  const files = [...elements, ...entries].map((file) => resolve(root, file));
  const program = ts.createProgram(files, { ...config.options, noEmit: true });
  program.getTypeChecker(); // binds every file, which gives the analyzer its parent pointers
  const modules = files.map((file) => program.getSourceFile(file));
  return create({ modules, plugins: [...litPlugin(), authShellPlugin({ root, program })] });
}

/** Writes the manifest and the editor data into `outdir` (dist/ in the build); returns the manifest. */
export function writeTooling(outdir = join(projectRoot, 'dist')) {
  const manifest = analyze();
  // A class under src/elements/ that no entry registers would be described without a tag: stop.
  const untagged = manifest.modules
    .filter((module) => module.path.startsWith('dist/elements/'))
    .flatMap((module) => module.declarations.filter((d) => d.kind === 'class' && !d.tagName))
    .map((d) => d.name);
  if (untagged.length)
    throw new Error(
      `custom-elements.json: no tag for ${untagged.join(', ')} (register it with define() in an entry named in exports)`,
    );
  mkdirSync(outdir, { recursive: true });
  const write = (name, data) => writeFileSync(join(outdir, name), `${JSON.stringify(data, null, 2)}\n`);
  write(FILES.manifest, manifest);
  const data = editorData(manifest);
  write(FILES.vscodeHtml, data.vscodeHtml);
  write(FILES.vscodeCss, data.vscodeCss);
  write(FILES.webTypes, data.webTypes);
  writeFileSync(join(outdir, FILES.vueComponents), vueGlobalComponents(manifest));
  // auth-shell/vue's declarations bring the typings along: an app that imports the adapter (for
  // useAuth or isAuthShellElement) has its templates checked with no setting of its own.
  const adapter = join(outdir, 'vue.d.ts');
  const reference = `/// <reference path="./${FILES.vueComponents}" />\n`;
  if (existsSync(adapter) && !readFileSync(adapter, 'utf8').startsWith(reference))
    writeFileSync(adapter, reference + readFileSync(adapter, 'utf8'));
  return manifest;
}

/**
 * A declaration file that puts every element of the manifest in Vue's `GlobalComponents`, so that
 * `vue-tsc --strictTemplates` checks `<auth-provider api="/api" @auth-change="…">` in templates:
 * each attribute as the camelCase prop Vue checks it as (typed as its property, or a string, since
 * a static attribute is one; a union of literals exactly), each event as Vue's `on<Event>` prop
 * typed from the element's event map, and HTML's own attributes, with the `slot` attribute Vue's
 * list lacks (children of `<auth-gate>` need it). The descriptions come along for editors' hovers.
 */
export function vueGlobalComponents(manifest) {
  const imports = [];
  const interfaces = [];
  const entries = [];
  const doc = (text, indent = '  ') =>
    text ? `${indent}/** ${text.replace(/\*\//g, '*\\/').split('\n').join(`\n${indent} * `)} */\n` : '';
  const camel = (name) => name.replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());
  const definitions = manifest.modules.flatMap((module) =>
    (module.exports ?? []).filter((entry) => entry.kind === 'custom-element-definition'),
  );
  for (const { name: tag, declaration } of definitions) {
    const module = manifest.modules.find((m) => m.path === declaration.module);
    const element = module?.declarations.find((d) => d.name === declaration.name);
    if (!element) throw new Error(`${FILES.vueComponents}: no declaration of ${declaration.name} for <${tag}>`);
    const from = `./${declaration.module.replace(/^dist\//, '')}`;
    const events = element.events ?? [];
    imports.push(`import type { ${element.name}${events.length ? `, ${element.name}EventMap` : ''} } from '${from}';`);
    const props = `${element.name}VueProps`;
    const members = [
      // An attribute the element sets on itself (no property) is not for the page to write.
      ...(element.attributes ?? [])
        .filter((attribute) => attribute.fieldName)
        .map((attribute) => {
          const parsed = attribute.parsedType?.text;
          const type = isLiteralUnion(parsed)
            ? parsed
            : `${element.name}[${JSON.stringify(attribute.fieldName)}] | string`;
          // Vue checks `require-role="…"` as the prop `requireRole` (its camelize rule).
          return `${doc(attribute.description)}  ${camel(attribute.name)}?: ${type};`;
        }),
      ...events.map(
        (event) =>
          `${doc(event.description)}  ${camel(`on-${event.name}`)}?: (event: ${element.name}EventMap[${JSON.stringify(event.name)}]) => void;`,
      ),
    ];
    interfaces.push(
      `/** \`<${tag}>\` in Vue templates: its attributes and events, and HTML's own attributes. */\n` +
        `export interface ${props} extends HTMLAttributes {\n${members.join('\n')}\n}\n`,
    );
    entries.push(
      `${doc(element.summary ?? element.description, '    ')}    ${JSON.stringify(tag)}: DefineComponent<${props}>;`,
    );
  }
  return `// Generated by scripts/custom-elements.mjs from ${FILES.manifest}: do not edit.
// Vue's GlobalComponents for auth-shell's elements, so that vue-tsc (strictTemplates too) checks
// their attributes and events in templates. auth-shell/vue's declarations load it; an app that does
// not import auth-shell/vue adds \`/// <reference types="auth-shell/vue" />\` to an env.d.ts.
import type { DefineComponent, HTMLAttributes } from 'vue';
${imports.join('\n')}

${interfaces.join('\n')}
declare module 'vue' {
  /** HTML's \`slot\` attribute, which places a child in a slot of its parent element (\`<p slot="pending">\` in \`<auth-gate>\`); Vue's own list lacks it. */
  interface HTMLAttributes {
    slot?: string | undefined;
  }

  interface GlobalComponents {
${entries.join('\n')}
  }
}
`;
}

/** VS Code's custom HTML and CSS data and JetBrains' web-types, from the manifest alone. */
export function editorData(manifest) {
  const docs = documentationLinks();
  const common = { hideLogs: true, descriptionSrc: 'description' };
  // VS Code offers an attribute's values from its type: only a union of literals has values to
  // offer, so every other attribute is plain text there (a `Partial<…>` is no value to type).
  const forVsCode = structuredClone(manifest);
  for (const attribute of forVsCode.modules.flatMap((m) => m.declarations.flatMap((d) => d.attributes ?? [])))
    attribute.htmlValue = { text: isLiteralUnion(attribute.parsedType?.text) ? attribute.parsedType.text : 'string' };
  const vscode = {
    ...common,
    typesSrc: 'htmlValue',
    referencesTemplate: (_name, tag) => [{ name: 'Documentation', url: docs(tag) }],
  };
  return {
    vscodeHtml: JSON.parse(getVsCodeHtmlCustomData(forVsCode, vscode)),
    vscodeCss: JSON.parse(getVsCodeCssCustomData(forVsCode, vscode)),
    webTypes: JSON.parse(
      getWebTypesData(manifest, {
        ...common,
        typesSrc: 'parsedType',
        // The module that declares each tag's class.
        modulePathTemplate: (_name, modulePath) => modulePath,
        referenceTemplate: (_name, tag) => ({ name: 'Documentation', url: docs(tag) }),
      }),
    ),
  };
}

/**
 * The README section of each tag (the heading that names `<tag>`) on the package's homepage, as
 * GitHub anchors it; the homepage itself for a tag without a section.
 */
function documentationLinks() {
  const { homepage } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const page = homepage.replace(/#.*$/, '');
  return (tag) => {
    const heading = readme.split('\n').find((line) => /^#{2,4} /.test(line) && line.includes(`<${tag}>`));
    if (!heading) return homepage;
    const anchor = heading
      .replace(/^#+ /, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    return `${page}#${anchor}`;
  };
}

/**
 * The default a property's description states, as attribute text: "Default `/login`." or "Default
 * 30." or "`POST` (default)". A default that is not one value ("Default: `Login` in the form's
 * language") is none. test/node/custom-elements.test.js holds the provider's against the session's.
 */
export function defaultIn(description = '') {
  const match =
    /(?:^|[.;] )Default:? `([^`]*)`(?=[.;,]|$)/.exec(description) ??
    /(?:^|[.;] )Default:? (-?\d+)(?=[.;, ]|$)/.exec(description) ??
    /^`([^`]+)` \(default\b/.exec(description);
  return match?.[1];
}

const isLiteralUnion = (text) =>
  !!text &&
  text.split('|').every((member) => /^\s*("[^"]*"|'[^']*'|-?\d+(\.\d+)?|true|false|undefined|null)\s*$/.test(member));

/**
 * What the analyzer does not see in these elements, which use Lit's ReactiveElement without
 * decorators and register their tags through `define()` (src/define.ts):
 * - the tag of each class, from `define('tag', Class)` calls (it knows `customElements.define`);
 * - attributes from `static properties` written `{…} as const satisfies …` (its Lit plugin reads
 *   only a bare object literal), named by Lit's rule: `attribute`, else the lowercased property;
 * - events: the element's `<Class>EventMap` interface gives each event and its detail type; the
 *   JSDoc `@event` tags give the descriptions; a `dispatchEvent(new CustomEvent(type))` with a
 *   variable name is not an event called "type";
 * - a public arrow-function field (`authFetch`) is a method, with its signature from the checker;
 * - `#private` members are no API; module paths are those of the package (dist/…js), not of src/.
 */
export function authShellPlugin({ root, program }) {
  const checker = program.getTypeChecker();
  root = resolve(root);
  const defineModule = join(root, 'src/define.ts');
  const isInside = (path) => path.startsWith(root + sep);
  const declarationFileOf = (symbol) => {
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return symbol?.declarations?.[0]?.getSourceFile().fileName;
  };
  const declarationFile = (node) => declarationFileOf(checker.getSymbolAtLocation(node));
  /** The module that declares `node`'s symbol, for a reference to it. */
  const moduleOf = (node) => ({ module: relative(root, declarationFile(node)) });
  const unwrap = (node) =>
    node && (ts.isSatisfiesExpression(node) || ts.isAsExpression(node) || ts.isParenthesizedExpression(node))
      ? unwrap(node.expression)
      : node;
  const nameOf = (node) => (ts.isIdentifier(node) || ts.isStringLiteral(node) ? node.text : undefined);
  const docOf = (node) =>
    ts
      .getJSDocCommentsAndTags(node)
      .filter(ts.isJSDoc)
      .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
      .join('\n')
      .trim() || undefined;
  /**
   * The type of a declaration with its aliases spelled out when that says more than the declared
   * text (`EndpointMethod | undefined` → `"POST" | "GET" | undefined`); undefined when it does not.
   */
  const expanded = (node, declared = '') => {
    const type = checker.getTypeAtLocation(node);
    const members = (type.isUnion() ? type.types : [type]).map((member) => checker.typeToString(member));
    // The checker splits `boolean` into its two literals; nobody writes it that way.
    const spelled =
      members.includes('true') && members.includes('false')
        ? [...members.filter((m) => m !== 'true' && m !== 'false'), 'boolean']
        : members;
    const nullish = (m) => m === 'undefined' || m === 'null';
    const text = [...spelled.filter((m) => !nullish(m)), ...spelled.filter(nullish)].join(' | ');
    const written = declared.split('|').map((m) => m.trim());
    const same = spelled.length === written.length && spelled.every((m) => written.includes(m));
    return same ? undefined : text;
  };

  return {
    name: 'auth-shell: ReactiveElement without decorators, define(), event maps',

    analyzePhase({ node, moduleDoc }) {
      // define(TAGS.gate, AuthGate): a custom element definition, as customElements.define would be.
      if (
        ts.isCallExpression(node) &&
        ts.isIdentifier(node.expression) &&
        declarationFile(node.expression) === defineModule &&
        node.arguments.length === 2 &&
        checker.getTypeAtLocation(node.arguments[0]).isStringLiteral() &&
        ts.isIdentifier(node.arguments[1])
      ) {
        // The tag as the checker reads it: a literal, or a constant such as TAGS.gate (src/tags.ts).
        const [tag, klass] = node.arguments;
        moduleDoc.exports.push({
          kind: 'custom-element-definition',
          name: /** @type {import('typescript').StringLiteralType} */ (checker.getTypeAtLocation(tag)).value,
          declaration: { name: klass.text, ...moduleOf(klass) },
        });
      }

      if (!ts.isClassDeclaration(node) || !node.name) return;
      const classDoc = moduleDoc.declarations.find((d) => d.kind === 'class' && d.name === node.name.text);
      if (!classDoc) return;
      const member = (name) => node.members.find((m) => m.name && nameOf(m.name) === name);

      // Attributes: every entry of `static properties`, replacing whatever the Lit plugin made of it.
      const properties = node.members.find(
        (m) =>
          ts.isPropertyDeclaration(m) &&
          m.modifiers?.some((k) => k.kind === ts.SyntaxKind.StaticKeyword) &&
          nameOf(m.name) === 'properties',
      );
      const list = unwrap(properties?.initializer);
      if (list && ts.isObjectLiteralExpression(list)) {
        // Attributes the element sets on itself for CSS (`@attr` in the class's JSDoc) have no
        // property: they stay, after the ones it observes.
        const reflectedOnly = (classDoc.attributes ?? []).filter((attribute) => !attribute.fieldName);
        classDoc.attributes = [];
        for (const entry of list.properties) {
          if (!ts.isPropertyAssignment(entry)) continue;
          const fieldName = nameOf(entry.name);
          const options = Object.fromEntries(
            (unwrap(entry.initializer)?.properties ?? [])
              .filter(ts.isPropertyAssignment)
              .map((option) => [nameOf(option.name), unwrap(option.initializer)]),
          );
          // `attribute: false`, or internal reactive state (`state: true`): a property only.
          if (
            options.attribute?.kind === ts.SyntaxKind.FalseKeyword ||
            options.state?.kind === ts.SyntaxKind.TrueKeyword
          )
            continue;
          const name =
            options.attribute && ts.isStringLiteral(options.attribute)
              ? options.attribute.text
              : fieldName.toLowerCase();
          let field = classDoc.members.find((m) => m.name === fieldName);
          if (!field) classDoc.members.push((field = { kind: 'field', name: fieldName }));
          field.attribute = name;
          if (options.reflect?.kind === ts.SyntaxKind.TrueKeyword) field.reflects = true;
          const declaration = member(fieldName);
          const parsed = declaration && expanded(declaration.name, field.type?.text);
          if (parsed) field.parsedType = { text: parsed };
          const fallback = defaultIn(field.description);
          classDoc.attributes.push({
            name,
            fieldName,
            ...(field.type ? { type: field.type } : {}),
            ...(field.parsedType ? { parsedType: field.parsedType } : {}),
            ...(field.description ? { description: field.description } : {}),
            // An attribute's value is a string: its default is the text that means the same.
            ...(fallback !== undefined ? { default: fallback } : {}),
          });
        }
        const observed = new Set(classDoc.attributes.map((attribute) => attribute.name));
        classDoc.attributes.push(...reflectedOnly.filter((attribute) => !observed.has(attribute.name)));
      }

      // Events: the event map is the list; @event tags describe; literal-less dispatches are dropped.
      const eventMap = node
        .getSourceFile()
        .statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === `${classDoc.name}EventMap`);
      const variableNames = new Set();
      const visit = (child) => {
        if (
          ts.isCallExpression(child) &&
          ts.isPropertyAccessExpression(child.expression) &&
          child.expression.name.text === 'dispatchEvent'
        ) {
          const event = child.arguments[0];
          if (event && ts.isNewExpression(event) && event.arguments?.[0] && !ts.isStringLiteralLike(event.arguments[0]))
            variableNames.add(event.arguments[0].getText());
        }
        ts.forEachChild(child, visit);
      };
      visit(node);
      const documented = (classDoc.events ?? []).filter((e) => !variableNames.has(e.name) || e.description);
      const mapped = (eventMap?.members ?? []).filter(ts.isPropertySignature).map((signature) => {
        const name = nameOf(signature.name);
        const doc = documented.find((e) => e.name === name);
        return {
          name,
          type: { text: signature.type.getText() },
          description: doc?.description ?? docOf(signature),
        };
      });
      // Documented events missing from the map stay, so that the test names them.
      classDoc.events = [...mapped, ...documented.filter((e) => !mapped.some((m) => m.name === e.name))];
      if (!classDoc.events.length) delete classDoc.events;

      // Public arrow-function fields are methods: `authFetch(input, init)`. The other fields get
      // their aliased unions spelled out: `view` is one of four names, not just a `GateView`.
      for (const field of classDoc.members.filter((m) => m.kind === 'field' && !m.static && !m.name.startsWith('#'))) {
        const declaration = member(field.name);
        const parsed = declaration && !field.parsedType && expanded(declaration.name, field.type?.text);
        if (parsed) field.parsedType = { text: parsed };
        const initializer = declaration && ts.isPropertyDeclaration(declaration) && declaration.initializer;
        if (!initializer || !(ts.isArrowFunction(initializer) || ts.isFunctionExpression(initializer))) continue;
        const signature = checker.getTypeAtLocation(declaration.name).getCallSignatures()[0];
        if (!signature) continue;
        const method = {
          kind: 'method',
          name: field.name,
          ...(field.description ? { description: field.description } : {}),
          parameters: signature.parameters.map((parameter) => {
            const source = parameter.valueDeclaration;
            return {
              name: parameter.name,
              type: {
                text:
                  source?.type?.getText() ??
                  checker.typeToString(checker.getTypeOfSymbolAtLocation(parameter, declaration)),
              },
              ...(source?.questionToken ? { optional: true } : {}),
            };
          }),
          return: { type: { text: checker.typeToString(signature.getReturnType()) } },
        };
        classDoc.members[classDoc.members.indexOf(field)] = method;
      }
    },

    moduleLinkPhase({ moduleDoc }) {
      for (const declaration of moduleDoc.declarations)
        if (declaration.members) declaration.members = declaration.members.filter((m) => !m.name.startsWith('#'));
    },

    packageLinkPhase({ customElementsManifest }) {
      const modules = customElementsManifest.modules;
      // An export names the module that declares it (the analyzer names the re-exporting module,
      // or the specifier as written); `export *` keeps its specifier, resolved below.
      for (const moduleDoc of modules) {
        const source = program.getSourceFile(resolve(root, moduleDoc.path));
        const symbol = source && checker.getSymbolAtLocation(source);
        const exported = new Map((symbol ? checker.getExportsOfModule(symbol) : []).map((s) => [s.name, s]));
        for (const entry of moduleDoc.exports ?? []) {
          const file = entry.kind === 'js' && exported.get(entry.name) && declarationFileOf(exported.get(entry.name));
          if (file && isInside(file))
            entry.declaration = { name: entry.declaration.name, module: relative(root, file) };
        }
      }
      // Paths as the package has them: src/elements/auth-gate.ts → dist/elements/auth-gate.js.
      const toPackage = (path, from) => {
        const absolute = /^\.\.?\//.test(path) ? resolve(root, dirname(from), path) : resolve('/', path);
        const inRoot = isInside(absolute) ? relative(root, absolute) : path;
        return inRoot
          .split(sep)
          .join('/')
          .replace(/^src\/(.+)\.[jt]s$/, 'dist/$1.js');
      };
      const visit = (value, from) => {
        if (Array.isArray(value)) return value.forEach((child) => visit(child, from));
        if (!value || typeof value !== 'object') return;
        for (const [key, child] of Object.entries(value)) {
          if (key === 'module' && typeof child === 'string') value[key] = toPackage(child, from);
          else visit(child, from);
        }
      };
      for (const moduleDoc of modules) {
        const from = relative(root, resolve(root, moduleDoc.path));
        visit(moduleDoc, from);
        moduleDoc.path = toPackage(from, from);
      }
      // A module that declares nothing and exports nothing (auth-shell/react: types only) says nothing.
      customElementsManifest.modules = modules.filter((m) => m.declarations.length || m.exports?.length);
    },
  };
}

// `node scripts/custom-elements.mjs`: write them without a whole build.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeTooling();
  console.log('wrote dist/custom-elements.json and the editor data');
}
