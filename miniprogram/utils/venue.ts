/** The venue's map: the event page's and the after-check-in page's navigation. */
import type { Venue } from './api';

/**
 * Opens WeChat's map at the venue, from which the user picks a navigation app. wx.openLocation
 * takes GCJ-02 coordinates, the ones every map picker in China gives. Without coordinates there is
 * no map to open: the address is copied instead.
 */
export function openVenue(venue: Venue): void {
  if (typeof venue.lat !== 'number' || typeof venue.lng !== 'number') {
    wx.setClipboardData({ data: venue.address });
    wx.showToast({ title: '已复制地址', icon: 'none' });
    return;
  }
  wx.openLocation({ latitude: venue.lat, longitude: venue.lng, name: venue.name ?? venue.address, address: venue.address, scale: 16 });
}
