// Creating and confirming transfers, and the demo phone's SMS outbox.
import { apiSlice } from '../api/apiSlice'
import type { NewTransfer, Sms, Transfer } from '../api/types'

export const transfersApi = apiSlice.injectEndpoints({
  endpoints: (build) => ({
    createTransfer: build.mutation<Transfer, { key: string; body: NewTransfer }>({
      query: ({ key, body }) => ({ url: 'api/transfers', method: 'POST', body, headers: { 'Idempotency-Key': key } }),
      invalidatesTags: ['Sms'],
    }),
    confirmTransfer: build.mutation<Transfer, { id: number; tan: string }>({
      query: ({ id, tan }) => ({ url: `api/transfers/${id}/confirm`, method: 'POST', body: { tan } }),
      invalidatesTags: (result) => (result ? ['User', 'Account', 'Activity', 'Stats'] : []),
    }),
    getSms: build.query<Sms[], void>({
      query: () => 'api/demo/sms',
      transformResponse: (body: { messages: Sms[] }) => body.messages,
      providesTags: ['Sms'],
    }),
  }),
})

export const { useCreateTransferMutation, useConfirmTransferMutation, useGetSmsQuery } = transfersApi
