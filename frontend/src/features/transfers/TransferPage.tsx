import { useAppSelector } from '../../app/hooks'
import { usePageTitle } from '../../utils/pageHooks'
import { DemoPhone } from './DemoPhone'
import { TanStep } from './TanStep'
import { TransferDone } from './TransferDone'
import { TransferForm } from './TransferForm'
import { selectTransfer } from './transferSlice'

const STEPS = ['Details', 'mTAN', 'Done']

export function TransferPage() {
  usePageTitle('New transfer')
  const { step } = useAppSelector(selectTransfer)
  const current = step === 'form' ? 0 : step === 'tan' ? 1 : 2
  return (
    <section className="page">
      <div className="page-head">
        <h1 tabIndex={-1}>New transfer</h1>
      </div>
      <ol className="stepper" aria-label="Steps">
        {STEPS.map((label, i) => (
          <li key={label} className={i === current ? 'current' : i < current ? 'done' : ''} aria-current={i === current ? 'step' : undefined}>
            <span className="stepper-dot">{i + 1}</span> {label}
          </li>
        ))}
      </ol>
      <div className="transfer-grid">
        <div className="card transfer-card" data-step={step} data-testid="transfer-card">
          <div className="card-content">
            {step === 'form' && <TransferForm />}
            {step === 'tan' && <TanStep />}
            {step === 'done' && <TransferDone />}
          </div>
        </div>
        <DemoPhone />
      </div>
    </section>
  )
}
