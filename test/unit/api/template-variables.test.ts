import { describe, expect, it } from 'vitest';
import { taskEdges } from '../../../src/api/dependency-edges.js';
import { parseTemplate, templateSiblings } from '../../../src/api/template-variables.js';
import { containerDef } from '../../support/fixtures.js';
import { definition, ecsOf, IMAGE, issues } from './ecs-support.js';

/* The grammar of template variables in environment values, and what the parser refuses at POST. */

describe('parseTemplate', () => {
  const ref = (raw: string, variable: string, container: string, key?: string) => ({ raw, variable, container, ...(key !== undefined ? { key } : {}) });
  const PARSED: Array<[string, string, unknown[]]> = [
    ['a value without %% is one literal', 'plain', ['plain']],
    ['a %% that opens no variable word stays literal', '50%% of %%d and %%hostx@db%%', ['50%% of %%d and %%hostx@db%%']],
    ['a reference alone', '%%host@db%%', [ref('%%host@db%%', 'host', 'db')]],
    ['hostname is not host with a key', '%%hostname@db%%', [ref('%%hostname@db%%', 'hostname', 'db')]],
    ['a network key', '%%host_my.net@db%%', [ref('%%host_my.net@db%%', 'host', 'db', 'my.net')]],
    ['references between literal text', 'http://%%host@db%%:%%port_0@db%%/x', ['http://', ref('%%host@db%%', 'host', 'db'), ':', ref('%%port_0@db%%', 'port', 'db', '0'), '/x']],
    ['a port name with _ and -', '%%port_pg_main-1@db%%', [ref('%%port_pg_main-1@db%%', 'port', 'db', 'pg_main-1')]],
    ['an environment name with dots', '%%env_a.b@side.car%%', [ref('%%env_a.b@side.car%%', 'env', 'side.car', 'a.b')]],
    ['pid, adjacent to another reference', '%%pid@db%%%%port@db%%', [ref('%%pid@db%%', 'pid', 'db'), ref('%%port@db%%', 'port', 'db')]],
  ];
  it.each(PARSED)('%s', (_what, value, parts) => {
    expect(parseTemplate(value)).toEqual({ ok: true, parts });
  });

  const REFUSED: Array<[string, string, string]> = [
    ['a variable without a container', '%%host%%', '%%host%% names no container: write %%host@<container>%% (the container of this task it comes from)'],
    ['a keyed variable without a container', '%%port_0%%', '%%port_0%% names no container: write %%port_0@<container>%% (the container of this task it comes from)'],
    ['an unclosed reference', 'x %%host@db', '%%host@db is not closed with %%'],
    ['env without a name', '%%env@db%%', '%%env@db%% needs the name of the variable: %%env_<NAME>@db%%'],
    ['pid with a key', '%%pid_1@db%%', '%%pid_1@db%%: %%pid%% takes no key, write %%pid@db%%'],
    ['a bad container name', '%%host@-db%%', '%%host@-db%% is not a template variable: write %%<variable>[_<key>]@<container>%%'],
    ['an empty key', '%%host_@db%%', '%%host_@db%% is not a template variable: write %%<variable>[_<key>]@<container>%%'],
  ];
  it.each(REFUSED)('refuses %s', (_what, value, message) => {
    expect(parseTemplate(value)).toEqual({ ok: false, raw: expect.any(String), message });
  });

  it('lists the siblings a container refers to, each once, never itself', () => {
    const c = containerDef('app', { environment: { A: '%%host@db%%:%%port@db%%', B: '%%env_X@cache%%', C: 'plain', D: '%%host@app%%' } });
    expect(templateSiblings(c)).toEqual(['db', 'cache']);
  });
});

const env = (pairs: Record<string, string>) => ({ environment: Object.entries(pairs).map(([name, value]) => ({ name, value })) });

describe('template variables at POST', () => {
  const REFUSED: Array<[string, Record<string, unknown>, string[]]> = [
    [
      'a reference to a container not in the task, naming the field',
      ecsOf([{ name: 'db' }, { name: 'app', ...env({ OTHER: 'x', DB_HOST: '%%host@nope%%' }) }]),
      ['containerDefinitions[1].environment[1].value: %%host@nope%% names no container of this task'],
    ],
    [
      'a reference to itself',
      ecsOf([{ name: 'app', ...env({ ME: '%%hostname@app%%' }) }]),
      ['containerDefinitions[0].environment[0].value: %%hostname@app%% names app itself: template variables come from another container of the task'],
    ],
    [
      'a reference that breaks the grammar',
      ecsOf([{ name: 'db' }, { name: 'app', ...env({ DB: '%%host%%' }) }]),
      ['containerDefinitions[1].environment[0].value: %%host%% names no container: write %%host@<container>%% (the container of this task it comes from)'],
    ],
    [
      'a cycle through template variables and dependsOn',
      ecsOf([{ name: 'db', dependsOn: [{ containerName: 'app', condition: 'START' }] }, { name: 'app', ...env({ DB: '%%host@db%%' }) }]),
      ['containerDefinitions[0].dependsOn: dependency cycle db → app → db (db dependsOn app, app uses template variables of db): none of them can start first'],
    ],
    [
      'a cycle of template variables alone',
      ecsOf([{ name: 'a', ...env({ B: '%%env_X@b%%' }) }, { name: 'b', ...env({ X: '1', A: '%%pid@a%%' }) }]),
      ['containerDefinitions[0].environment: dependency cycle a → b → a (a uses template variables of b, b uses template variables of a): none of them can start first'],
    ],
  ];
  it.each(REFUSED)('refuses %s', (_what, body, expected) => {
    expect(issues(body)).toEqual(expected);
  });

  it('names the variable by its key in the short form', () => {
    const body = { arn: 'arn:test:task/short', family: 'web', version: '1', containers: [{ name: 'app', image: IMAGE, environment: { DB_HOST: '%%host@nope%%' } }] };
    expect(issues(body)).toEqual(['containers[0].environment.DB_HOST: %%host@nope%% names no container of this task']);
  });

  it('accepts every variable, and a literal %% that opens none', () => {
    const body = ecsOf([
      { name: 'db', portMappings: [{ containerPort: 5432, name: 'pg' }], ...env({ X: '1' }) },
      { name: 'app', ...env({ ALL: '%%host@db%% %%host_bridge@db%% %%port@db%% %%port_0@db%% %%port_pg@db%% %%pid@db%% %%hostname@db%% %%env_X@db%%', PCT: '100%%' }) },
    ]);
    expect(issues(body)).toEqual([]);
  });

  it('makes a reference a START dependency on the container it names, once per container', () => {
    const task = definition(ecsOf([{ name: 'db' }, { name: 'app', links: ['db'], ...env({ A: '%%host@db%%', B: '%%port@db%%' }) }]));
    expect(taskEdges(task)).toEqual([
      { from: 'app', on: 'db', condition: 'START', origin: 'links' },
      { from: 'app', on: 'db', condition: 'START', origin: 'environment' },
    ]);
  });
});
