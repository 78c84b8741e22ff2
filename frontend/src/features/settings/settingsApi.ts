import { apiSlice } from '../api/apiSlice'
import type { User } from '../api/types'

export const settingsApi = apiSlice.injectEndpoints({
  endpoints: (build) => ({
    updateLimit: build.mutation<User, string>({
      query: (limit) => ({ url: 'api/user/limit', method: 'PUT', body: { limit } }),
      invalidatesTags: ['User'],
    }),
  }),
})

export const { useUpdateLimitMutation } = settingsApi
