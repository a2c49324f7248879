#!/usr/bin/env node
import '../dist/cli/forge-pipeline.js';
