/**
 * Chat messages -> one prompt string. Instruct models (Qwen, Gemma, Llama) ship a chat
 * template in tokenizer_config.json, rendered with @huggingface/jinja. The project's small play
 * model has none: messages become script lines (`NAME: text`) ending with the speaker's prefix.
 */
import type { CausalLM } from '../../models/runtime/index.ts';
import { formatLine, speakerCue } from '../../models/runtime/index.ts';
import type { ChatMessage } from './types.ts';

export function renderMessages(model: CausalLM, messages: readonly ChatMessage[]): string {
  const tok = model.tokenizer;
  if (tok.chatTemplate) return tok.applyChatTemplate(messages);
  return playScriptPrompt(messages);
}

/** The last assistant message's name (or "assistant") speaks next. */
export function playScriptPrompt(messages: readonly ChatMessage[]): string {
  const nextSpeaker = [...messages].reverse().find((m) => m.role === 'assistant' && m.name)?.name ?? 'assistant';
  const lines = messages.map((m) => (m.role === 'system' ? `[${m.content.trim()}]` : formatLine(m.name ?? m.role, m.content)));
  return [...lines, speakerCue(nextSpeaker)].join('\n');
}
