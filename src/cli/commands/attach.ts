import { must } from "../client.ts"
import { command, idArg } from "../command.ts"
import { recordedEvents } from "../events.ts"
import { exitCodes, followRun } from "../follow.ts"

export const attach = command({
  usage: "agentlog attach <session-id> [--json]",
  summary: "follow a running session from the start of its current run, answering its approvals; Ctrl-C: detach (it keeps running) or interrupt",
  options: {},
  run: async (context) => {
    const id = idArg(context.args, "session")
    const client = context.client()
    const s = await must(client.api.GET("/v1/sessions/{id}", { params: { path: { id } } }))
    if (s.status !== "queued" && s.status !== "running" && s.status !== "waiting_approval") {
      context.out(`session ${id} is ${s.status}: nothing runs to attach to (agentlog log ${id} shows what happened)`)
      return s.status === "draft" || s.status === "discarded" ? 1 : exitCodes[s.status]
    }
    // The current run from its first event, so what it asked and did so far is on screen.
    let after = s.lastRevision
    for await (const e of recordedEvents(client, id, 0)) {
      if (e.data.runId === s.runId) {
        after = e.revision - 1
        break
      }
    }
    return followRun({ client, terminal: context, sessionId: id, runId: s.runId, after, json: context.flags.json === true })
  }
})
