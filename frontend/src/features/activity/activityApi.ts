// The activity list: an infinite query over the API's cursor pages.
import { apiSlice } from '../api/apiSlice'
import type { ActivityFilter, ActivityPage } from '../api/types'

export const PAGE_SIZE = 20

export const activityApi = apiSlice.injectEndpoints({
  endpoints: (build) => ({
    getActivity: build.infiniteQuery<ActivityPage, ActivityFilter, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (lastPage) => lastPage.nextCursor ?? undefined,
      },
      query: ({ queryArg, pageParam }) => {
        const params: Record<string, string | number> = { limit: PAGE_SIZE }
        if (pageParam) params.cursor = pageParam
        if (queryArg.direction) params.direction = queryArg.direction
        if (queryArg.tag) params.tag = queryArg.tag
        return { url: 'api/account/activity', params }
      },
      providesTags: ['Activity'],
    }),
  }),
})

export const { useGetActivityInfiniteQuery } = activityApi
