import { lazy } from 'react'
import { Navigate, Route, Routes } from 'react-router'
import { LoginPage } from '../features/auth/LoginPage'
import { Layout } from '../features/layout/Layout'
import { NotFound } from '../features/layout/NotFound'
import { RequireAuth } from '../features/layout/RequireAuth'
import { Toaster } from '../features/notifications/Toaster'

// The screens behind the login load on demand: the login page doesn't wait for Chart.js.
const OverviewPage = lazy(() => import('../features/account/OverviewPage').then((m) => ({ default: m.OverviewPage })))
const ActivityPage = lazy(() => import('../features/activity/ActivityPage').then((m) => ({ default: m.ActivityPage })))
const TransferPage = lazy(() => import('../features/transfers/TransferPage').then((m) => ({ default: m.TransferPage })))
const SettingsPage = lazy(() => import('../features/settings/SettingsPage').then((m) => ({ default: m.SettingsPage })))
const NotificationsPage = lazy(() =>
  import('../features/notifications/NotificationsPage').then((m) => ({ default: m.NotificationsPage })))

export function App() {
  return (
    <>
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="/auth" element={<Navigate to="/login" replace />} />
        <Route element={<RequireAuth><Layout /></RequireAuth>}>
          <Route index element={<Navigate to="/overview" replace />} />
          <Route path="overview" element={<OverviewPage />} />
          <Route path="activity" element={<ActivityPage />} />
          <Route path="transfer" element={<TransferPage />} />
          <Route path="settings" element={<SettingsPage />} />
          <Route path="notifications" element={<NotificationsPage />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
      <Toaster />
    </>
  )
}
