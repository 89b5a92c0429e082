#!/usr/bin/env node
// Executable for the package `bin` entry: loads TypeScript through tsx and runs scripts/cli.ts with the same
// arguments. No logic of its own.
import { register } from "tsx/esm/api";

register();
await import("../cli.ts");
