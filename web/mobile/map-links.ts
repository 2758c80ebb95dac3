/**
 * Links that open the venue in Tencent Maps or AMap (their web "URI API": a marker page that hands
 * over to the app when it is installed), so the page needs no map SDK, key or script. Both take
 * GCJ-02 coordinates, the ones every map picker in China gives; without coordinates the address is
 * searched instead.
 * Tencent: https://lbs.qq.com/webApi/uriV1/uriGuide/uriWebMarker
 * AMap: https://lbs.amap.com/api/uri-api/guide/mobile-web/point
 */
export interface Venue {
  name?: string | null;
  address: string;
  lat?: number | null;
  lng?: number | null;
}

export interface MapLinks {
  tencent: string;
  amap: string;
}

const hasCoordinates = (venue: Venue): venue is Venue & { lat: number; lng: number } =>
  typeof venue.lat === 'number' && typeof venue.lng === 'number' && Number.isFinite(venue.lat) && Number.isFinite(venue.lng);

export function mapLinksOf(venue: Venue): MapLinks {
  const title = venue.name?.trim() || venue.address;
  const q = encodeURIComponent;
  if (hasCoordinates(venue)) {
    return {
      // Tencent's marker value is `coord:lat,lng;title:…;addr:…`; `referer` names the calling app.
      tencent:
        `https://apis.map.qq.com/uri/v1/marker?marker=${q(`coord:${venue.lat},${venue.lng};title:${title};addr:${venue.address}`)}` +
        '&referer=flywheel',
      // AMap puts longitude first.
      amap: `https://uri.amap.com/marker?position=${venue.lng},${venue.lat}&name=${q(title)}&coordinate=gaode&callnative=1`,
    };
  }
  return {
    tencent: `https://apis.map.qq.com/uri/v1/search?keyword=${q(venue.address)}&referer=flywheel`,
    amap: `https://uri.amap.com/search?keyword=${q(venue.address)}&callnative=1`,
  };
}
