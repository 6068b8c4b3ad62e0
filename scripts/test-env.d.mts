export declare const DROPPED_FOR_TESTS: Readonly<Record<string, string>>;
export declare function testRunEnv(env?: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; dropped: string[]; kept: Array<{ name: string; why: string }> };
