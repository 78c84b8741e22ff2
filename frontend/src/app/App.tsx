import { Navigate, Route, Routes } from 'react-router'
import { OverviewPage } from '../features/account/OverviewPage'
import { ActivityPage } from '../features/activity/ActivityPage'
import { LoginPage } from '../features/auth/LoginPage'
import { Layout } from '../features/layout/Layout'
import { NotFound } from '../features/layout/NotFound'
import { RequireAuth } from '../features/layout/RequireAuth'
import { NotificationsPage } from '../features/notifications/NotificationsPage'
import { Toaster } from '../features/notifications/Toaster'
import { SettingsPage } from '../features/settings/SettingsPage'
import { TransferPage } from '../features/transfers/TransferPage'

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
