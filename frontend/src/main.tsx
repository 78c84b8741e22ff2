import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { Provider } from 'react-redux'
import { BrowserRouter } from 'react-router'
import '@materializecss/materialize/dist/css/materialize.min.css'
import '@materializecss/materialize/dist/css/materialize.colors.min.css'
import '@fortawesome/fontawesome-free/css/fontawesome.min.css'
import '@fortawesome/fontawesome-free/css/solid.min.css'
import 'material-icons/iconfont/filled.css'
import './index.css'
import { App } from './app/App'
import { makeStore } from './app/store'
import { loadSession } from './features/auth/authSlice'

const session = loadSession()
const store = makeStore(session ? { auth: session } : undefined)

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Provider store={store}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </Provider>
  </StrictMode>,
)
