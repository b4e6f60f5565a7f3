// An idle Node process under the same loader as the proxies (node --import
// tsx): the idle workload reads its RSS to show what the runtime alone costs.
setTimeout(() => undefined, 60_000);
