export declare const INPUTS_RECORD: string;
export declare const BUILD_SETTINGS: string[];
export declare function inputsDigest(root: string, inputs: string[]): string;
export declare function inputsUnchanged(root: string, out: string): boolean;
export declare function recordInputs(root: string, out: string, inputs: string[], startedAt: number): boolean;
export declare function outputsOf(out: string): Record<string, [size: number, mtimeMs: number]>;
export declare function outputsIntact(out: string): boolean;
