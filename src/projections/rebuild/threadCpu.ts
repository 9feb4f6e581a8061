/** CPU time (user + system) the calling thread has used, in ms: how busy each side of a rebuild was. */
export const threadCpuMs = (): number => {
  const u = process.threadCpuUsage()
  return (u.user + u.system) / 1000
}
