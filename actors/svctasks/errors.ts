import { CallerError, errorKind, registerErrorClass } from '../../src/errors.ts';

/** Failures of service tasks. Messages name the task and domain, never the script code or a runner's token. */

/** A task, or a task file entry, that does not parse (`details.issues`). */
export class TaskInvalid extends errorKind('MW_ERR_TASK_INVALID', CallerError) {}
registerErrorClass(TaskInvalid);

/** No task with that id in that domain. */
export class TaskNotFound extends errorKind('MW_ERR_TASK_NOT_FOUND', CallerError) {}
registerErrorClass(TaskNotFound);

/** A task from the tasks file: it is changed in the file, not over the API. */
export class TaskReadOnly extends errorKind('MW_ERR_TASK_READONLY', CallerError) {}
registerErrorClass(TaskReadOnly);

/** `run-now` (or a firing) while a run of the task is under way on that site, and the task does not allow overlap. */
export class TaskOverlap extends errorKind('MW_ERR_TASK_OVERLAP', CallerError) {}
registerErrorClass(TaskOverlap);

/** The tasks file cannot be read or parsed. */
export class TaskFileInvalid extends errorKind('MW_ERR_TASK_FILE') {}
registerErrorClass(TaskFileInvalid);
