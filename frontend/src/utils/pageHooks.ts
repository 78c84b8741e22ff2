import { useEffect, useState } from 'react'

export function usePageTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · PiggyBank`
  }, [title])
}

/** The current time, updated every `everyMs` (for countdowns). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs)
    return () => clearInterval(id)
  }, [everyMs])
  return now
}
