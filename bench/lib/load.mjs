#!/usr/bin/env node
// The reads scenario's load generator, a process of its own so that its event loop is not the one
// measured: `node load.mjs BASE_URL PATH REQUESTS CONCURRENCY` sends REQUESTS GETs of PATH over
// CONCURRENCY keep-alive connections (each connection one request at a time) and prints one JSON
// line: every latency in ms, the bytes of the last body, and the failures.
import http from 'node:http';

const [base, path, requests, concurrency] = process.argv.slice(2);
const total = Number(requests);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const url = new URL(path, base);
const latencies = [];
let bytes = 0;
let failures = 0;
let next = 0;

function one() {
  return new Promise((resolve) => {
    const started = performance.now();
    const request = http.get(url, { agent }, (response) => {
      let size = 0;
      response.on('data', (chunk) => (size += chunk.length));
      response.on('end', () => {
        latencies.push(performance.now() - started);
        if (response.statusCode !== 200) failures++;
        bytes = size;
        resolve();
      });
    });
    request.on('error', () => {
      failures++;
      resolve();
    });
  });
}

async function worker() {
  while (next < total) {
    next++;
    await one();
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
process.stdout.write(`${JSON.stringify({ latencies, bytes, failures, wallMs: performance.now() - started })}\n`);
agent.destroy();
