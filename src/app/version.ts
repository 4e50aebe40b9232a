import { readFileSync } from 'node:fs';
import { findRepoPath } from '../core/repo-path.js';

/** The package version. */
export const VERSION: string = (JSON.parse(readFileSync(findRepoPath('package.json'), 'utf8')) as { version: string }).version;
