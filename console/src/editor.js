// The code editor: CodeMirror 6 with Python or JavaScript highlighting, line numbers, search,
// bracket matching and undo history (the `basicSetup` bundle). Tab indents; Escape then Tab
// leaves the editor, so it never traps the keyboard.

import { EditorView, basicSetup } from 'codemirror';
import { EditorState, Compartment } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { indentWithTab } from '@codemirror/commands';
import { python } from '@codemirror/lang-python';
import { javascript } from '@codemirror/lang-javascript';

function languageOf(kind) {
  if (kind.startsWith('python')) return python();
  if (kind.startsWith('nodejs')) return javascript();
  return [];
}

// A code editor in `parent`; returns {get(), set(text), setKind(kind), focus()}.
export function codeEditor(parent, { code, kind, label }) {
  const language = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: code,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        language.of(languageOf(kind)),
        EditorView.contentAttributes.of({ 'aria-label': label }),
        EditorView.theme({ '&': { height: '100%' }, '.cm-scroller': { overflow: 'auto' } }),
      ],
    }),
  });
  return {
    view,
    get: () => view.state.doc.toString(),
    set: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    setKind: (next) => view.dispatch({ effects: language.reconfigure(languageOf(next)) }),
    focus: () => view.focus(),
  };
}
