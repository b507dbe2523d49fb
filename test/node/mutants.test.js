// The mutation practice's list stays applicable: every mutant's anchor occurs exactly once in its
// file, so a refactor that moves code must move the mutant with it (npm run mutants runs them).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MUTANTS } from '../mutants/mutants.mjs';

test('every mutant of test/mutants/mutants.mjs applies: its anchor occurs exactly once', () => {
  const ids = new Set();
  for (const mutant of MUTANTS) {
    assert.ok(!ids.has(mutant.id), `duplicate mutant id ${mutant.id}`);
    ids.add(mutant.id);
    const source = readFileSync(new URL(`../../${mutant.file}`, import.meta.url), 'utf8');
    assert.equal(source.split(mutant.find).length - 1, 1, `${mutant.id}: anchor must occur once in ${mutant.file}`);
    assert.notEqual(mutant.find, mutant.replace, `${mutant.id}: changes nothing`);
  }
});
