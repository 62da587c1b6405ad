// Usage lines of commands whose modules the CLI loads only when they run (main.ts).

export const STATE_USAGE = `  proxy-monitor state check|reset (--state-dir DIR | --config FILE)
                                         check the state database; reset moves it aside (the daemon must be stopped)
`;

export const GRAPH_USAGE = `  proxy-monitor graph [--machine proxy|monitor] [--format mermaid|dot|json]
                                         print a statechart
`;
