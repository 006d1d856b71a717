import { target } from './stryker.base.mjs';

export default target('lock-table', 'actors/mutex/lock-table.ts', 'test/actors/lock-table.test.ts');
