// The board's entry (board.html): nginx serves it on the Grafana port where no Grafana runs.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { BoardApp } from './BoardApp'
import './board.css'

createRoot(document.getElementById('board') as HTMLElement).render(
  <StrictMode>
    <BoardApp />
  </StrictMode>,
)
