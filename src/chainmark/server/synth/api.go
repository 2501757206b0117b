// Package synth holds chainmark's synthetic models: deterministic text and embeddings, latency
// profiles, and the scripted behaviours (ReAct agent steps, router, math chain, tool calls,
// JSON-format answers) that let a benchmark drive frameworks without a capable model.
//
// Nothing here sleeps or touches HTTP: the server paces answers with the Profile's delays.
package synth

// Message is one chat message as the client sent it.
type Message struct {
	Role    string
	Content string
	// ToolCalls the assistant made earlier in the conversation (OpenAI/Ollama tool calling).
	ToolCalls []ToolCall
	// ToolName is set on a "tool" message: which tool produced this result.
	ToolName string
}

// Prompt is what a request asks the model to continue: a generate prompt (one user message,
// maybe a system one), a chat's messages, or raw text for /api/generate with "raw": true.
type Prompt struct {
	Kind     string // "generate" | "chat"
	Messages []Message
	Raw      *string
}

// Options are the generation options that change a synthetic answer.
type Options struct {
	NumPredict int // <= 0: no limit
	Seed       int // Ollama's seed; 0 when unset
	Stop       []string
	NumCtx     int // prompt tokens are capped at this; <= 0 means 2048
}

// Tool is a function the client offered (Ollama's and OpenAI's "tools" entries).
type Tool struct {
	Name        string
	Description string
	Parameters  map[string]any // JSON schema of the arguments
}

// ToolCall is the model asking for one tool.
type ToolCall struct {
	Name      string
	Arguments map[string]any
}

// Answer is what a synthetic model will send for one request, decided before any waiting.
type Answer struct {
	Tokens       []string   // streamed pieces; their concatenation is the text sent
	Generated    int        // tokens "generated" (before a stop sequence cut the text)
	DoneReason   string     // "stop" | "length"
	PromptTokens int        // prompt tokens "evaluated"
	ToolCalls    []ToolCall // non-empty: the model calls tools instead of (or besides) text
}
