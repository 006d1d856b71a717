import { target } from './stryker.base.mjs';

export default target('supervisor', 'src/supervision/supervisor.ts', 'test/supervision/supervisor.test.ts');
