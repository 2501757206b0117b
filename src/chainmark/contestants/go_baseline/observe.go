package main

// Hooks: what an application sees of an agent run. The events are the ones LangChainGo's
// callbacks.Handler exposes for an agent (chain, LLM and tool start/end/error, agent action,
// agent finish), called by the baseline's own loop (react.go) at the same points. There is
// no inner chain per step here, so a run has one chain (the run itself), not one per step.

import "context"

// Kinds of span and event.
const (
	KindChain       = "chain"
	KindLLM         = "llm"
	KindTool        = "tool"
	KindAgentAction = "agent_action"
	KindAgentFinish = "agent_finish"
)

// Observer sees a run. Start returns the context the matching End (and anything inside)
// gets, so an observer can nest what it records; End's err is the failure, if any. Every
// method may be called from many goroutines at once.
type Observer interface {
	Start(ctx context.Context, kind, name string, detail any) context.Context
	End(ctx context.Context, kind, name string, detail any, err error)
	Event(ctx context.Context, kind string, detail any)
}
